// `sluice validate`: exit 0 with a summary, 1 with one line per problem, 2 on usage errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { validateCommand, type CommandOutput } from '../../src/cli/validate.ts';
import { EXAMPLE_RULES, fixture } from './fixtures.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const output: CommandOutput = { out: (line) => out.push(line), err: (line) => err.push(line) };
  const code = await validateCommand(args, output);
  return { code, out, err };
}

test('valid rules: exit 0 and a one-line summary with the version', async () => {
  const { code, out, err } = await run([EXAMPLE_RULES]);
  assert.equal(code, 0);
  assert.deepEqual(err, []);
  assert.equal(out.length, 1);
  assert.match(
    out[0],
    /^.+\/rules valid: 2 files, 3 clusters, 2 classes, 4 accounts, 1 hot-key rule, 3 degrade rules \(version [0-9a-f]{12}\)$/,
  );
});

test('a migration under way: the summary counts splits and mirrors', async () => {
  const { code, out } = await run([fixture('migration.yaml')]);
  assert.equal(code, 0);
  assert.match(out[0], /, 0 degrade rules, 2 splits, 2 mirrors \(version [0-9a-f]{12}\)$/);
});

test('--rules works like the positional argument, and SLUICE_RULES is the default', async (t) => {
  assert.equal((await run(['--rules', fixture('minimal.yaml')])).code, 0);
  const saved = process.env.SLUICE_RULES;
  t.after(() => {
    if (saved === undefined) delete process.env.SLUICE_RULES;
    else process.env.SLUICE_RULES = saved;
  });
  process.env.SLUICE_RULES = fixture('bad-rate.yaml');
  const { code, err } = await run([]);
  assert.equal(code, 1);
  assert.deepEqual(err, [`${fixture('bad-rate.yaml')}:8:11: limits.global.rate: must be a rate like 200/s or 3000/min`]);
});

test('invalid rules: exit 1 and exactly one line per problem on stderr', async () => {
  const { code, out, err } = await run([fixture('several-problems.yaml')]);
  assert.equal(code, 1);
  assert.deepEqual(out, []);
  assert.equal(err.length, 6);
  for (const line of err) assert.match(line, /^\/.+several-problems\.yaml:\d+:\d+: [\w.[\]]+: .+$/);
});

test('usage errors: exit 2', async () => {
  const unknown = await run(['--strict', EXAMPLE_RULES]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.err[0], 'sluice validate: unknown option --strict');
  const two = await run([EXAMPLE_RULES, fixture('minimal.yaml')]);
  assert.equal(two.code, 2);
  assert.equal(two.err[0], 'sluice validate: expects one rules directory or file');
});

test('through the sluice command: exit codes and no stack trace', async () => {
  const sluice = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/sluice.js', 'validate', ...args], { cwd: REPO, timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code ?? -1), stdout, stderr });
      });
    });
  const good = await sluice(['rules/']);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^rules\/ valid: 2 files, .+\(version [0-9a-f]{12}\)\n$/);

  const bad = await sluice(['proxy/test/fixtures/rules/unknown-key.yaml']);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    "proxy/test/fixtures/rules/unknown-key.yaml:5:5: clusters.primary.tiemout: unknown key 'tiemout' (did you mean 'timeout'?)\n",
  );

  const missing = await sluice(['no-such-dir/']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'no-such-dir/: no such file or directory\n');

  const usage = await sluice(['--nope']);
  assert.equal(usage.code, 2);
  assert.doesNotMatch(usage.stderr, /\bat .+:\d+:\d+\)?$/m);
});
