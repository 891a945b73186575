// SPEC §3: `burst` defaults to a tenth of a second of the rate, at least 1, for account quotas,
// unknown_quota, hot keys (each override at its own rate) and the global cap; an explicit burst,
// 0 included, wins.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultBurst } from '../../src/rules/burst.ts';
import { loadRules } from '../../src/rules/load.ts';
import type { Rules } from '../../src/rules/types.ts';

async function load(yaml: string): Promise<Rules> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-burst-'));
  try {
    await writeFile(join(dir, 'rules.yaml'), yaml);
    const result = await loadRules(join(dir, 'rules.yaml'));
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    return result.rules;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const RULES = `
clusters:
  primary: { endpoints: [http://127.0.0.1:8081] }
classes:
  order: { cluster: primary }
callers:
  auth: trust
  unknown: order
  unknown_quota: 45/s
  accounts:
    - { id: big, owner: o, team: t, scenario: s, class: order, quota: 100000/s }
    - { id: mid, owner: o, team: t, scenario: s, class: order, quota: 2000/s }
    - { id: slow, owner: o, team: t, scenario: s, class: order, quota: 30/min }
    - { id: strict, owner: o, team: t, scenario: s, class: order, quota: 300/s, burst: 0 }
    - { id: wide, owner: o, team: t, scenario: s, class: order, quota: 300/s, burst: 600 }
    - { id: free, owner: o, team: t, scenario: s, class: order }
limits:
  global: { rate: 30000/s }
  hot_keys:
    - { name: member-id, key: "path:/members/{id}", rate: 50/s, overrides: { "10086": 500/s } }
    - { name: by-ip, key: ip, rate: 50/s, burst: 0, overrides: { "10.0.0.1": 500/s } }
`;

test('the rule itself: a tenth of a second of the rate, rounded up, at least 1', () => {
  assert.deepEqual([100_000, 2000, 300, 15, 10, 1, 0.5, 0].map(defaultBurst), [10_000, 200, 30, 2, 1, 1, 1, 1]);
});

test('normalization gives every smooth limit its default burst; an explicit burst wins, 0 included', async () => {
  const rules = await load(RULES);
  const burst = (id: string) => rules.callers.accounts.find((a) => a.id === id)?.burst;
  assert.equal(burst('big'), 10_000);
  assert.equal(burst('mid'), 200, '16 callers firing together fit in it');
  assert.equal(burst('slow'), 1, '30/min: two arrivals at once still pass');
  assert.equal(burst('strict'), 0, 'burst: 0 as written: strict spacing');
  assert.equal(burst('wide'), 600);
  assert.equal(burst('free'), 0, 'no quota, nothing to burst');
  assert.equal(rules.callers.unknownBurst, 5, 'unknown_quota 45/s → 4.5, rounded up');
  assert.equal(rules.limits.global?.burst, 3000, 'the global cap takes the same rule');
  const [memberId, byIp] = rules.limits.hotKeys;
  assert.equal(memberId.burst, 5);
  assert.equal(memberId.overrideBursts.get('10086'), 50, 'an override at its own rate');
  assert.equal(byIp.burst, 0);
  assert.equal(byIp.overrideBursts.get('10.0.0.1'), 0, "the rule's explicit burst covers its overrides");
});
