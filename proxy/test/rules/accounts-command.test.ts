// `sluice accounts`: registration and key rotation edit a copy of the example rules, keeping
// comments and layout, storing only the key's SHA-256, and always leaving rules that load.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { accountsCommand } from '../../src/cli/accounts.ts';
import type { CommandOutput } from '../../src/cli/validate.ts';
import { loadRules } from '../../src/rules/load.ts';
import { EXAMPLE_RULES } from './fixtures.ts';

let scratch = '';
let copies = 0;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sluice-accounts-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function rulesCopy(): Promise<string> {
  const dir = join(scratch, `rules-${copies++}`);
  await cp(EXAMPLE_RULES, dir, { recursive: true });
  return dir;
}

async function accounts(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const output: CommandOutput = { out: (line) => out.push(line), err: (line) => err.push(line) };
  return { code: await accountsCommand(args, output), out, err };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const REGISTER = [
  'register', '--id', 'points-mall', '--owner', 'Zhao Lei', '--team', 'loyalty',
  '--scenario', 'Redeem points: mall # checkout', '--class', 'order', '--quota', '100/s', '--burst', '5',
  '--routes', 'GET /members/*', 'POST /members/*/points',
];

test('register appends the account, keeps every comment and line, and stores only the secret\'s hash', async () => {
  const dir = await rulesCopy();
  const file = join(dir, 'callers.yaml');
  const before = await readFile(file, 'utf8');

  const { code, out, err } = await accounts([...REGISTER, '--rules', dir]);
  assert.equal(code, 0, err.join('\n'));
  assert.equal(out[0], `registered 'points-mall' in ${file} (class order, quota 100/s)`);
  const secret = out.at(-1) ?? '';
  assert.match(secret, /^[A-Za-z0-9_-]{32}$/);

  const after = await readFile(file, 'utf8');
  assert.ok(after.startsWith(before), 'the existing text is kept byte for byte');
  assert.ok(!after.includes(secret), 'the secret itself is never written');
  assert.equal(
    after.slice(before.length),
    [
      '',
      '    - id: points-mall',
      '      owner: Zhao Lei',
      '      team: loyalty',
      '      scenario: "Redeem points: mall # checkout"',
      '      class: order',
      `      key_sha256: ${sha256(secret)}`,
      '      quota: 100/s',
      '      burst: 5',
      '      routes: [GET /members/*, POST /members/*/points]',
      '',
    ].join('\n'),
  );

  const loaded = await loadRules(dir);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'));
  const account = loaded.rules.callers.accounts.find((a) => a.id === 'points-mall');
  assert.deepEqual(account?.routes, ['GET /members/*', 'POST /members/*/points']);
  assert.equal(account?.keySha256, sha256(secret));
  assert.equal(account?.scenario, 'Redeem points: mall # checkout');
  // No temp file is left behind.
  assert.deepEqual((await readdir(dir)).sort(), ['callers.yaml', 'schema.json', 'sluice.yaml']);
});

test('register refuses a duplicate id, an unknown class, a bad rate or route, and leaves the file untouched', async () => {
  const dir = await rulesCopy();
  const file = join(dir, 'callers.yaml');
  const before = await readFile(file, 'utf8');
  const base = ['register', '--owner', 'o', '--team', 't', '--scenario', 's', '--rules', dir];
  const cases: [string[], string][] = [
    [['--id', 'fraud-check', '--class', 'order', '--quota', '1/s'], `sluice accounts: account 'fraud-check' already exists (in ${file})`],
    [['--id', 'x1', '--class', 'vip', '--quota', '1/s'], "sluice accounts: unknown class 'vip' (classes: order, marketing)"],
    [['--id', 'x1', '--class', 'order', '--quota', '1/sec'], "sluice accounts: --quota '1/sec': must be a rate like 200/s or 3000/min"],
    [['--id', 'x1', '--class', 'order', '--quota', '1/s', '--burst', '-2'], "sluice accounts: --burst '-2': must be a whole number >= 0"],
    [
      ['--id', 'x1', '--class', 'order', '--quota', '1/s', '--routes', 'GET /a/**/b'],
      "sluice accounts: --routes: route 'GET /a/**/b': '**' may only be the last segment",
    ],
  ];
  for (const [args, message] of cases) {
    const { code, out, err } = await accounts([...base, ...args]);
    assert.equal(code, 1, args.join(' '));
    assert.deepEqual(err, [message]);
    assert.deepEqual(out, []);
  }
  assert.equal(await readFile(file, 'utf8'), before);
});

test('register without a required flag is a usage error (exit 2)', async () => {
  const dir = await rulesCopy();
  const { code, err } = await accounts(['register', '--id', 'x1', '--owner', 'o', '--rules', dir]);
  assert.equal(code, 2);
  assert.equal(err[0], 'sluice accounts: missing --team');
  assert.equal((await accounts(['promote'])).code, 2);
});

test('rotate-key replaces only the key hash, and the new secret matches it', async () => {
  const dir = await rulesCopy();
  const file = join(dir, 'callers.yaml');
  const before = await readFile(file, 'utf8');
  const oldHash = sha256('demo-key-fraud-check');

  const { code, out, err } = await accounts(['rotate-key', 'fraud-check', '--rules', dir]);
  assert.equal(code, 0, err.join('\n'));
  const secret = out.at(-1) ?? '';
  const newHash = sha256(secret);
  assert.notEqual(newHash, oldHash);
  assert.equal(await readFile(file, 'utf8'), before.replace(oldHash, newHash));

  const loaded = await loadRules(dir);
  assert.ok(loaded.ok);
  assert.equal(loaded.rules.callers.accounts.find((a) => a.id === 'fraud-check')?.keySha256, newHash);

  const missing = await accounts(['rotate-key', 'nobody', '--rules', dir]);
  assert.equal(missing.code, 1);
  assert.deepEqual(missing.err, ["sluice accounts: no account 'nobody'"]);
});

test('rotate-key adds key_sha256 to an account that had none', async () => {
  const dir = join(scratch, 'trusting');
  await mkdir(dir);
  const text = [
    'clusters:',
    '  primary: { endpoints: [http://127.0.0.1:8081] }',
    'classes:',
    '  order: { cluster: primary }',
    'callers:',
    '  auth: trust   # mesh identity',
    '  accounts:',
    '    - id: a1',
    '      owner: o   # keep me',
    '      team: t',
    '      scenario: s',
    '      class: order',
    '',
  ].join('\n');
  await writeFile(join(dir, 'rules.yaml'), text);
  const { code, out } = await accounts(['rotate-key', 'a1', '--rules', dir]);
  assert.equal(code, 0);
  const hash = sha256(out.at(-1) ?? '');
  assert.equal(await readFile(join(dir, 'rules.yaml'), 'utf8'), text.replace('    - id: a1\n', `    - id: a1\n      key_sha256: ${hash}\n`));
});

test('list shows every registered account', async () => {
  const { code, out } = await accounts(['list', '--rules', EXAMPLE_RULES]);
  assert.equal(code, 0);
  assert.match(out[0], /^ID\s+CLASS\s+QUOTA\s+BURST\s+TEAM\s+OWNER\s+ROUTES\s+SCENARIO$/);
  assert.deepEqual(
    out.slice(1).map((line) => line.split(/\s+/).slice(0, 3)),
    [
      ['order-center', 'order', '3000/s'],
      ['booking-app', 'order', '2000/s'],
      ['marketing-campaign', 'marketing', '500/s'],
      ['fraud-check', 'order', '200/s'],
    ],
  );
});

test('accounts refuses to edit rules that are already invalid', async () => {
  const dir = await rulesCopy();
  await writeFile(join(dir, 'broken.yaml'), 'clusters:\n  primary: { endpoints: [http://127.0.0.1:9] }\n');
  const { code, err } = await accounts([...REGISTER, '--rules', dir]);
  assert.equal(code, 1);
  // Files merge in name order: broken.yaml comes first, so sluice.yaml holds the second definition.
  assert.match(err[0], /sluice\.yaml:\d+:3: clusters\.primary: defined in two files \(also at .+broken\.yaml:2:3\)$/);
  assert.equal(err.at(-1), 'sluice accounts: fix the rules above first (sluice validate)');
});
