// The demo's copy of the example rules: endpoints on the stand-ins, a laptop-sized global cap,
// breakers that recover within the tour; every change announced; the original left untouched.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEMO_GLOBAL_RATE, EXAMPLE_RULES_DIR, prepareDemoRules } from '../../src/demo/demo-rules.ts';

const endpoints = new Map([
  ['primary', 'http://127.0.0.1:40001'],
  ['marketing', 'http://127.0.0.1:40002'],
  ['backup', 'http://127.0.0.1:40003'],
]);

test('the copy points clusters at the stand-ins and lowers the global cap, and says so', async () => {
  const before = await readFile(join(EXAMPLE_RULES_DIR, 'sluice.yaml'), 'utf8');
  const demo = await prepareDemoRules({ endpoints, fallbackUrl: 'http://127.0.0.1:40001', scale: 1 });
  try {
    const { rules } = demo;
    assert.deepEqual(
      [...rules.clusters.values()].map((c) => [c.name, c.endpoints]),
      [...endpoints].map(([name, url]) => [name, [url]]),
    );
    assert.equal(rules.limits.global?.rate.perSecond, DEMO_GLOBAL_RATE);
    const slow = rules.degrade.find((d) => d.name === 'primary-slow');
    assert.ok(slow !== undefined);
    assert.equal(slow.openForMs, 4000);
    assert.equal(slow.windowMs, 1000, 'full-length tour keeps the rules\' window');
    for (const account of rules.callers.accounts) assert.ok(account.quota === null || account.burst > 0, `${account.id} has a burst`);
    assert.ok(demo.notes.some((n) => n.includes(`${DEMO_GLOBAL_RATE}/s`)), demo.notes.join('\n'));
    assert.ok(demo.notes.some((n) => n.includes('primary-slow')), demo.notes.join('\n'));
    // Comments survive in the copy (it stays a readable example).
    const copy = await readFile(join(demo.dir, 'sluice.yaml'), 'utf8');
    assert.match(copy, /# Upstream clusters of the member service\./);
  } finally {
    await demo.remove();
  }
  assert.equal(existsSync(demo.dir), false, 'temp copy removed');
  assert.equal(await readFile(join(EXAMPLE_RULES_DIR, 'sluice.yaml'), 'utf8'), before, 'shipped rules untouched');
});

test('a fast run scales breaker windows and open time down', async () => {
  const demo = await prepareDemoRules({ endpoints, fallbackUrl: 'http://127.0.0.1:40001', scale: 0.15 });
  try {
    const slow = demo.rules.degrade.find((d) => d.name === 'primary-slow');
    assert.ok(slow !== undefined);
    assert.equal(slow.windowMs, 200);
    assert.equal(slow.openForMs, 600);
    assert.equal(slow.minRequests, 5);
  } finally {
    await demo.remove();
  }
});

test('example rules that do not load are refused with their first problem', async () => {
  const source = await mkdtemp(join(tmpdir(), 'sluice-demo-test-'));
  try {
    await writeFile(join(source, 'sluice.yaml'), 'version: 1\nclusters:\n  primary: { endpoints: [http://127.0.0.1:1] }\nclases: {}\n');
    await assert.rejects(
      prepareDemoRules({ endpoints, fallbackUrl: 'http://127.0.0.1:40001', scale: 1, source }),
      /^Error: the example rules do not load: .*sluice\.yaml:\d+:\d+/,
    );
  } finally {
    await rm(source, { recursive: true, force: true });
  }
});
