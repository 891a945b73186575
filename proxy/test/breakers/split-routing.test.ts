// A split's cluster stands in for the class's own: its breakers decide, the class's failover
// applies (none for an isolated class), and a split class without breakers just alternates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Rejection } from '../../src/reasons.ts';
import { compileRoutes } from '../../src/upstream/router.ts';
import { breakerHarness, breakerRules, degradeRule, fail, MARKETING, ok, ORDER } from '../helpers/breaker-rules.ts';

const spareBreaker = degradeRule({ name: 'spare-errors', cluster: 'spare', kind: 'error_count', threshold: 1, minRequests: 1, probes: 1, action: 'failover' });

test('a request split to a cluster whose breaker is open fails over to the class failover, the others stay home', () => {
  const h = breakerHarness(breakerRules({
    classes: [{ ...ORDER, split: { to: 'spare', percent: 50, sticky: null } }, MARKETING],
    degrade: [spareBreaker],
  }));
  // Exactly every second request is split.
  assert.deepEqual([h.send('order', ok()), h.send('order', ok()), h.send('order', ok()), h.send('order', ok())], ['primary', 'spare', 'primary', 'spare']);
  assert.equal(h.send('order', ok()), 'primary');
  assert.equal(h.send('order', fail()), 'spare');
  // spare's breaker is open: the split share goes to backup, the rest still to primary.
  assert.equal(h.send('order', ok()), 'primary');
  assert.equal(h.send('order', ok()), 'backup');
});

test('an isolated class split to its own cluster gets circuit_open when that breaker is open, never another cluster', () => {
  const h = breakerHarness(breakerRules({
    classes: [ORDER, { ...MARKETING, split: { to: 'spare', percent: 100, sticky: null } }],
    degrade: [spareBreaker],
  }));
  assert.equal(h.send('marketing', fail()), 'spare');
  const refused = h.send('marketing', ok()) as Rejection;
  assert.equal(refused.reason, 'circuit_open');
});

test('without degrade rules the split still chooses, and counts its choice per cluster', () => {
  const h = breakerHarness(breakerRules({ classes: [{ ...ORDER, split: { to: 'spare', percent: 25, sticky: null } }, MARKETING] }));
  const chosen = Array.from({ length: 8 }, () => h.decide('order').ctx.cluster);
  assert.deepEqual(chosen, ['primary', 'primary', 'primary', 'spare', 'primary', 'primary', 'primary', 'spare']);
  assert.equal(h.metrics.splitRequests.labels('order', 'spare').value, 2);
  assert.equal(h.metrics.splitRequests.labels('order', 'primary').value, 6);
});

test('a switch re-points the split target too, but never onto a cluster another class uses for an isolated class', () => {
  const isolated = breakerRules({
    classes: [ORDER, { ...MARKETING, split: { to: 'spare', percent: 10, sticky: null } }],
    switch: { spare: 'primary' },
  });
  const table = compileRoutes(isolated);
  assert.equal(table.routes.get('marketing')?.split, 'spare');
  assert.match(table.warnings.join('\n'), /not applied to the split of class 'marketing'/);
  const open = compileRoutes(breakerRules({ classes: [{ ...ORDER, split: { to: 'spare', percent: 10, sticky: null } }, MARKETING], switch: { spare: 'backup' } }));
  assert.equal(open.routes.get('order')?.split, 'backup');
});
