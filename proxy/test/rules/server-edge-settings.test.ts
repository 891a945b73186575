// The listener's edge settings (server.headers_timeout, server.max_headers): defaults, values
// as written, and the bounds a headers timeout must stay within.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRules } from '../../src/rules/load.ts';

const BASE = `version: 1
clusters:
  primary: { endpoints: ["http://127.0.0.1:8081"] }
classes:
  order: { cluster: primary }
`;

async function load(server: string) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-edge-rules-'));
  const file = join(dir, 'rules.yaml');
  try {
    await writeFile(file, `${BASE}server: ${server}\n`);
    return { file, result: await loadRules(file) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('server.headers_timeout and server.max_headers are read as written', async () => {
  const { result } = await load('{ headers_timeout: 2s, max_headers: 64 }');
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  assert.equal(result.rules.server.headersTimeoutMs, 2000);
  assert.equal(result.rules.server.maxHeaders, 64);
});

test('a headers timeout of 0 or past a minute is refused: it would be no bound', async () => {
  for (const value of ['0s', '50ms', '2m']) {
    const { file, result } = await load(`{ headers_timeout: ${value} }`);
    assert.equal(result.ok, false, value);
    assert.deepEqual(result.ok ? [] : result.errors, [`${file}:6:28: server.headers_timeout: must be between 100ms and 1m`]);
  }
});

test('max_headers must be a whole number from 1', async () => {
  const { file, result } = await load('{ max_headers: 0 }');
  assert.deepEqual(result.ok ? [] : result.errors, [`${file}:6:24: server.max_headers: must be >= 1`]);
});
