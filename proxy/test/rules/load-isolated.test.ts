import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadRules } from '../../src/rules/load.ts';
import { loadRulesBounded } from '../../src/rules/load-isolated.ts';

const repoRules = new URL('../../../rules/', import.meta.url).pathname;

describe('rules loaded in a child process (large rule sets)', () => {
  test('give the same rules as loading in process, Maps included', async () => {
    const inProcess = await loadRules(repoRules);
    const isolated = await loadRulesBounded(repoRules, 0);
    assert.equal(isolated.ok, true);
    assert.ok(isolated.ok && isolated.rules.clusters instanceof Map && isolated.rules.clusters.size > 0);
    assert.deepEqual(isolated, inProcess);
  });

  test('accounts with the same quota and routes share one copy of each, in a child or in process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-isolated-'));
    try {
      const base = readFileSync(join(repoRules, 'sluice.yaml'), 'utf8');
      writeFileSync(join(dir, 'sluice.yaml'), base);
      const accounts = Array.from({ length: 3 }, (_, i) =>
        `    - { id: shared-${i}, owner: Zhao Lei, team: growth, scenario: Campaign lookup, class: order, key_sha256: ${"c".repeat(63)}${i}, quota: 50/s, routes: [GET /members/*] }`);
      writeFileSync(join(dir, 'more-callers.yaml'), `callers:\n  accounts:\n${accounts.join('\n')}\n`);
      for (const isolateAbove of [0, Number.POSITIVE_INFINITY]) {
        const result = await loadRulesBounded(dir, isolateAbove);
        assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
        const shared = result.rules.callers.accounts.filter((a) => a.id.startsWith('shared-'));
        assert.equal(shared.length, 3);
        assert.deepEqual(shared[0].quota, { text: '50/s', perSecond: 50 });
        assert.ok(shared[1].quota === shared[0].quota && shared[2].quota === shared[0].quota, 'one Rate for the three');
        assert.ok(shared[1].routes === shared[0].routes && shared[2].routes === shared[0].routes, 'one route list for the three');
        assert.deepEqual(shared[0].routes, ['GET /members/*']);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a loader killed by a signal, as out of memory kills it, refuses the rules rather than loading them in process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-isolated-'));
    try {
      const file = join(dir, 'rules.yaml');
      writeFileSync(file, `${readFileSync(join(repoRules, 'sluice.yaml'), 'utf8')}\n# ${'padding '.repeat(2000)}\n`);
      assert.equal((await loadRules(file)).ok, true, 'the rules themselves load');
      // The kernel's OOM killer sends SIGKILL: this child sends it to itself before parsing.
      const killSelf = ['--import', 'data:text/javascript,process.kill(process.pid, "SIGKILL")'];
      const refused = await loadRulesBounded(file, 0, killSelf);
      assert.equal(refused.ok, false);
      assert.ok(!refused.ok);
      assert.equal(refused.errors.length, 1);
      assert.match(refused.errors[0], new RegExp(`^${file.replaceAll('.', '\\.')}:1:1: the rules loader process was killed by SIGKILL while parsing 0\\.0 MiB of rules, most likely out of memory`));
      assert.match(refused.errors[0], /split callers\.accounts over several files/);
      assert.deepEqual(refused.files, [file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('report the same problems for rules that do not load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-isolated-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'version: 1\nstore: { kind: memory }\nclusters:\n  primary: { endpoints: [], timeout: soon }\n');
      const isolated = await loadRulesBounded(file, 0);
      assert.equal(isolated.ok, false);
      assert.deepEqual(isolated, await loadRules(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
