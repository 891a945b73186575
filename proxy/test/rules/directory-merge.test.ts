// A rules directory: files merged in name order, dotfiles and other files skipped, Kubernetes
// ConfigMap symlink layouts followed, and a hash that follows content, not location.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadRules } from '../../src/rules/load.ts';
import { fixture } from './fixtures.ts';

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'sluice-rules-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('*.yaml and *.yml files are merged in name order; dotfiles and other files are skipped', async () => {
  const dir = fixture('split-valid');
  const result = await loadRules(dir);
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  assert.deepEqual(result.files, [`${dir}/10-clusters.yaml`, `${dir}/20-callers.yml`, `${dir}/30-more-callers.yaml`]);
  assert.deepEqual(result.rules.callers.accounts.map((a) => a.id), ['a1', 'a2']);
  assert.deepEqual(result.rules.limits.hotKeys.map((h) => h.name), ['member-id', 'caller-ip']);
  assert.deepEqual(result.rules.degrade.map((d) => d.name), ['primary-errors', 'primary-count']);
  assert.equal(result.rules.callers.auth, 'trust');
});

test('a ConfigMap mount (files symlinked through a ..data symlink) is read through the links', async () => {
  const mount = join(scratch, 'configmap');
  const version = join(mount, '..2024_01_01_00_00_00.000000001');
  await mkdir(version, { recursive: true });
  await cp(fixture('split-valid/10-clusters.yaml'), join(version, 'sluice.yaml'));
  await cp(fixture('split-valid/20-callers.yml'), join(version, 'callers.yaml'));
  await symlink('..2024_01_01_00_00_00.000000001', join(mount, '..data'));
  await symlink('..data/sluice.yaml', join(mount, 'sluice.yaml'));
  await symlink('..data/callers.yaml', join(mount, 'callers.yaml'));
  await symlink('..data/gone.yaml', join(mount, 'dangling.yaml'));

  const result = await loadRules(mount);
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  assert.deepEqual(result.files, [join(mount, 'callers.yaml'), join(mount, 'sluice.yaml')]);
  assert.deepEqual(result.rules.callers.accounts.map((a) => a.id), ['a1']);
});

test('the hash depends on file names and contents, not on where the rules are mounted', async () => {
  const first = join(scratch, 'one');
  const second = join(scratch, 'two');
  await cp(fixture('split-valid'), first, { recursive: true });
  await cp(fixture('split-valid'), second, { recursive: true });
  const a = await loadRules(first);
  const b = await loadRules(second);
  assert.ok(a.ok && b.ok);
  assert.equal(a.hash, b.hash);

  await writeFile(join(second, '30-more-callers.yaml'), '# emptied\n');
  const c = await loadRules(second);
  assert.ok(c.ok, c.ok ? '' : c.errors.join('\n'));
  assert.notEqual(c.hash, a.hash);
});

test('an empty directory and a file that is not a mapping are refused with one line each', async () => {
  const empty = join(scratch, 'empty');
  await mkdir(empty);
  assert.deepEqual(await loadRules(empty), {
    ok: false,
    errors: [`${empty}: no rules files (*.yaml, *.yml) in this directory`],
    files: [],
  });

  const list = join(scratch, 'list.yaml');
  await writeFile(list, '- clusters\n- classes\n');
  const result = await loadRules(list);
  assert.ok(!result.ok);
  assert.equal(result.errors[0], `${list}:1:1: (root): must be a mapping of sections (version, clusters, classes, ...)`);
});

test('empty sections are allowed, version may repeat when equal but not differ', async () => {
  const dir = join(scratch, 'versions');
  await mkdir(dir);
  await writeFile(join(dir, 'a.yaml'), 'version: 1\nclusters:\n  p: { endpoints: [http://127.0.0.1:1] }\nclasses:\n  c: { cluster: p }\n');
  await writeFile(join(dir, 'b.yaml'), 'version: 1\ndegrade:\nswitch: {}\ncallers:\n  # no accounts yet\n');
  const ok = await loadRules(dir);
  assert.ok(ok.ok, ok.ok ? '' : ok.errors.join('\n'));

  await writeFile(join(dir, 'b.yaml'), 'version: 2\n');
  const bad = await loadRules(dir);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors, [
    `${dir}/b.yaml:1:1: version: defined in two files (also at ${dir}/a.yaml:1:1)`,
  ]);
});

test('classes keep the order they are written in, across files', async () => {
  const dir = join(scratch, 'order');
  await mkdir(dir);
  await writeFile(join(dir, 'a.yaml'), 'clusters:\n  p: { endpoints: [http://127.0.0.1:1] }\nclasses:\n  zeta: { cluster: p }\n  alpha: { cluster: p }\n');
  await writeFile(join(dir, 'b.yaml'), 'classes:\n  middle: { cluster: p, max_share: 0.5 }\n');
  const result = await loadRules(dir);
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  assert.deepEqual(result.rules.classes.map((c) => [c.name, c.priority]), [['zeta', 0], ['alpha', 1], ['middle', 2]]);
});
