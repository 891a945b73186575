// The shipped example rules load cleanly and say what the README and the demo rely on.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { loadRules } from '../../src/rules/load.ts';
import { EXAMPLE_RULES } from './fixtures.ts';

test('rules/ is valid and merges sluice.yaml with callers.yaml', async () => {
  const result = await loadRules(EXAMPLE_RULES);
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  const { rules } = result;
  assert.deepEqual(result.files, [`${EXAMPLE_RULES}/callers.yaml`, `${EXAMPLE_RULES}/sluice.yaml`]);
  assert.match(result.hash, /^[0-9a-f]{64}$/);

  assert.deepEqual([...rules.clusters.keys()], ['primary', 'marketing', 'backup']);
  assert.deepEqual(
    rules.classes.map((c) => [c.name, c.priority, c.cluster, c.failover, c.maxShare]),
    [
      ['order', 0, 'primary', 'backup', 1],
      ['marketing', 1, 'marketing', null, 0.3],
    ],
  );
  assert.deepEqual(rules.limits.global, { rate: { text: '30000/s', perSecond: 30000 }, burst: 3000, scope: 'fleet', shadow: false });
  const memberId = rules.limits.hotKeys[0];
  assert.equal(memberId.key, 'path:/members/{id}');
  assert.equal(memberId.overrides.get('10086')?.perSecond, 500);
  // The rule's explicit burst applies to its overrides too.
  assert.equal(memberId.overrideBursts.get('10086'), memberId.burst);
  assert.deepEqual(
    rules.degrade.map((d) => [d.name, d.cluster, d.kind, d.threshold, d.action]),
    [
      ['primary-slow', 'primary', 'rt', 200, 'failover'],
      ['primary-errors', 'primary', 'error_ratio', 0.5, 'failover'],
      ['marketing-errors', 'marketing', 'error_count', 50, 'reject'],
    ],
  );
  assert.equal(rules.callers.auth, 'key');
  assert.equal(rules.callers.unknown, 'reject');
});

test('each demo account key is demo-key-<id>, stored only as its SHA-256', async () => {
  const result = await loadRules(EXAMPLE_RULES);
  assert.ok(result.ok);
  const accounts = result.rules.callers.accounts;
  assert.deepEqual(
    accounts.map((a) => [a.id, a.class]),
    [
      ['order-center', 'order'],
      ['booking-app', 'order'],
      ['marketing-campaign', 'marketing'],
      ['fraud-check', 'order'],
    ],
  );
  for (const account of accounts) {
    const expected = createHash('sha256').update(`demo-key-${account.id}`).digest('hex');
    assert.equal(account.keySha256, expected, account.id);
    assert.ok(account.owner && account.team && account.scenario && account.routes?.length, account.id);
  }
});
