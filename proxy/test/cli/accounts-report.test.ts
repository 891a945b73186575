// `sluice accounts set-quota` and `sluice accounts report` as commands: edits that keep the file's
// comments and always leave rules that load; usage errors exit 2, an unreachable source exits 1
// with one line.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { accountsCommand } from '../../src/cli/accounts.ts';
import type { CommandOutput } from '../../src/cli/validate.ts';
import { setAccountQuota } from '../../src/rules/accounts-edit.ts';
import { loadRules } from '../../src/rules/load.ts';
import { freePort } from '../helpers/servers.ts';
import { EXAMPLE_RULES } from '../rules/fixtures.ts';

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sluice-set-quota-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function accounts(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const output: CommandOutput = { out: (line) => out.push(line), err: (line) => err.push(line) };
  return { code: await accountsCommand(args, output), out, err };
}

test('set-quota replaces only the quota value, keeping every other byte, and the rules load', async () => {
  const dir = join(scratch, 'example');
  await cp(EXAMPLE_RULES, dir, { recursive: true });
  const before = await readFile(join(dir, 'callers.yaml'), 'utf8');
  const run = await accounts(['set-quota', 'order-center', '4500/s', '--rules', dir]);
  assert.equal(run.code, 0, run.err.join('\n'));
  assert.match(run.out[0], /quota of 'order-center' set to 4500\/s in .*callers\.yaml/);
  const after = await readFile(join(dir, 'callers.yaml'), 'utf8');
  assert.equal(after, before.replace('quota: 3000/s             # fleet-wide', 'quota: 4500/s             # fleet-wide'));
  const loaded = await loadRules(dir);
  assert.ok(loaded.ok);
  assert.equal(loaded.rules.callers.accounts.find((a) => a.id === 'order-center')?.quota?.perSecond, 4500);
});

test('set-quota adds a quota to an account without one, and edits flow-style accounts', () => {
  const block = 'callers:\n  accounts:\n    - id: a   # the a team\n      owner: o\n';
  assert.equal(setAccountQuota(block, 'a', '75/s'), 'callers:\n  accounts:\n    - id: a   # the a team\n      quota: 75/s\n      owner: o\n');
  const flow = 'callers:\n  accounts:\n    - { id: b, owner: o, quota: 10/s }  # b\n';
  assert.equal(setAccountQuota(flow, 'b', '20/s'), 'callers:\n  accounts:\n    - { id: b, owner: o, quota: 20/s }  # b\n');
  assert.equal(setAccountQuota(flow, 'nobody', '20/s'), null);
});

test('set-quota refuses an unknown account, a bad rate, and a missing argument', async () => {
  const dir = join(scratch, 'refusals');
  await cp(EXAMPLE_RULES, dir, { recursive: true });
  const before = await readFile(join(dir, 'callers.yaml'), 'utf8');
  assert.deepEqual(await accounts(['set-quota', 'nobody', '10/s', '--rules', dir]), { code: 1, out: [], err: ["sluice accounts: no account 'nobody'"] });
  const bad = await accounts(['set-quota', 'order-center', 'fast', '--rules', dir]);
  assert.equal(bad.code, 1);
  assert.match(bad.err[0], /'fast': must be a rate like 200\/s/);
  assert.equal((await accounts(['set-quota', 'order-center'])).code, 2);
  assert.equal(await readFile(join(dir, 'callers.yaml'), 'utf8'), before, 'nothing written');
});

test('report: usage errors exit 2; an unreachable sidecar exits 1 with one line', async () => {
  assert.equal((await accounts(['report', '--rules', EXAMPLE_RULES, '--redis', 'redis://127.0.0.1:1', '--admin', 'http://127.0.0.1:1'])).code, 2);
  assert.equal((await accounts(['report', '--rules', EXAMPLE_RULES, '--days', '0'])).code, 2);
  assert.equal((await accounts(['report', '--rules', EXAMPLE_RULES, '--nope'])).code, 2);
  const port = await freePort();
  const run = await accounts(['report', '--rules', EXAMPLE_RULES, '--admin', `http://127.0.0.1:${port}`]);
  assert.equal(run.code, 1);
  assert.equal(run.err.length, 1);
  assert.match(run.err[0], new RegExp(`^sluice accounts report: cannot reach http://127\\.0\\.0\\.1:${port}/admin/accounts\\?days=7: .*ECONNREFUSED`));
});
