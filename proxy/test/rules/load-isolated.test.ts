import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
