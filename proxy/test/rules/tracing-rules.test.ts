// The `tracing` section: defaults filled in, absent means off, mistakes reported at file:line:col.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadRules } from '../../src/rules/load.ts';

const BASE = `version: 1
clusters:
  primary: { endpoints: ["http://127.0.0.1:8081"] }
classes:
  order: { cluster: primary }
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-tracing-rules-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(name: string, text: string): Promise<Awaited<ReturnType<typeof loadRules>>> {
  const file = join(dir, name);
  await writeFile(file, BASE + text);
  return loadRules(file);
}

test('no tracing section: tracing is off', async () => {
  const result = await load('off.yaml', '');
  assert.ok(result.ok);
  assert.equal(result.rules.tracing, null);
});

test('tracing with only otlp gets sample 0.01 and service_name sluice', async () => {
  const result = await load('min.yaml', 'tracing: { otlp: "http://otel-collector:4318/v1/traces" }\n');
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  assert.deepEqual(result.rules.tracing, { otlp: 'http://otel-collector:4318/v1/traces', sample: 0.01, serviceName: 'sluice' });
});

test('a bad endpoint, a sample above 1 and an unknown key are each reported where they are', async () => {
  const result = await load('bad.yaml', 'tracing:\n  otlp: otel-collector:4318\n  sample: 2\n  service: x\n');
  assert.equal(result.ok, false);
  const file = join(dir, 'bad.yaml');
  const errors = result.ok ? [] : result.errors;
  assert.ok(errors.some((e) => e.startsWith(`${file}:7:9: tracing.otlp: must be an OTLP/HTTP traces URL`)), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith(`${file}:8:11: tracing.sample: `)), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith(`${file}:9:3: tracing.service: unknown key 'service'`)), errors.join('\n'));
});
