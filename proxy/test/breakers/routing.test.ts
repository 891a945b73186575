// Where the breaker guard sends each class: failover, reject, isolation of the marketing class,
// shadow rules, switch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BreakerState } from '../../src/breakers/breaker.ts';
import type { Rejection } from '../../src/reasons.ts';
import { compileRoutes } from '../../src/upstream/router.ts';
import { breakerHarness, breakerRules, degradeRule, fail, ok } from '../helpers/breaker-rules.ts';

test('a failing marketing cluster with action reject answers circuit_open with the time to the next probe', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'marketing-errors', cluster: 'marketing', kind: 'error_ratio', threshold: 0.5, minRequests: 10, openForMs: 8000, action: 'reject' })],
  }));
  for (let i = 0; i < 10; i++) assert.equal(h.send('marketing', fail()), 'marketing');
  h.advance(3000);
  const { ctx, verdict } = h.decide('marketing');
  assert.equal(verdict?.reason, 'circuit_open');
  assert.equal(verdict?.retryAfterMs, 5000);
  assert.equal(ctx.cluster, '');
  // Order flow is untouched.
  assert.equal(h.send('order', ok()), 'primary');
});

test('marketing (failover: none) never reaches primary nor the order failover, under any breaker states or switch', () => {
  const actions = ['failover', 'reject'] as const;
  const states: readonly (BreakerState | 'half-open-busy')[] = ['closed', 'open', 'half-open', 'half-open-busy'];
  const switches: readonly Record<string, string>[] = [
    {},
    { marketing: 'primary' },
    { marketing: 'backup' },
    { primary: 'backup' },
    { primary: 'marketing' },
    { marketing: 'spare' },
    { marketing: 'primary', primary: 'spare' },
  ];
  let decisions = 0;
  let rejected = 0;
  for (const sw of switches) {
    for (const action of actions) {
      const rules = breakerRules({
        switch: sw,
        degrade: ['primary', 'marketing', 'backup', 'spare'].map((cluster) =>
          degradeRule({ name: `${cluster}-errors`, cluster, kind: 'error_count', threshold: 1, minRequests: 1, probes: 1, action })),
      });
      const h = breakerHarness(rules);
      // Its own cluster, or a cluster no other class uses when switched there.
      const home = sw.marketing === 'spare' ? 'spare' : 'marketing';
      const all = h.breakers.all;
      const combos = states.length ** all.length;
      for (let combo = 0; combo < combos; combo++) {
        let rest = combo;
        for (const breaker of all) {
          const state = states[rest % states.length];
          rest = Math.floor(rest / states.length);
          breaker.force(state === 'half-open-busy' ? 'half-open' : state);
          if (state === 'half-open-busy') breaker.acquire();
        }
        const { ctx, verdict } = h.decide('marketing');
        h.breakers.release(ctx);
        decisions++;
        if (verdict !== null) {
          assert.equal(verdict.reason, 'circuit_open');
          rejected++;
          continue;
        }
        assert.notEqual(ctx.cluster, 'primary');
        assert.equal(ctx.cluster, home, `marketing sent to ${ctx.cluster} with switch ${JSON.stringify(sw)}`);
      }
    }
  }
  assert.equal(decisions, switches.length * actions.length * states.length ** 4);
  assert.ok(rejected > 0 && rejected < decisions);
});

test('the router has no failover entry for marketing, and ignores switches that would break its isolation', () => {
  const table = compileRoutes(breakerRules({ switch: { marketing: 'primary' } }));
  assert.deepEqual(table.routes.get('marketing'), { className: 'marketing', primary: 'marketing', failover: null, isolated: true, split: null });
  assert.equal(table.warnings.length, 1);
  assert.match(table.warnings[0], /not applied to class 'marketing'.*serves class 'order'/);
  const toBackup = compileRoutes(breakerRules({ switch: { marketing: 'backup' } }));
  assert.equal(toBackup.routes.get('marketing')?.primary, 'marketing');
  const toSpare = compileRoutes(breakerRules({ switch: { marketing: 'spare' } }));
  assert.equal(toSpare.routes.get('marketing')?.primary, 'spare');
  assert.deepEqual(toSpare.warnings, []);
});

test('switch re-points a class; a posted switch replaces the rules\' own', () => {
  const h = breakerHarness(breakerRules({ switch: { primary: 'backup' } }));
  assert.equal(h.send('order', ok()), 'backup');
  assert.equal(h.send('marketing', ok()), 'marketing');
  h.rebuild(breakerRules({ switch: { primary: 'backup' } }), new Map());
  assert.equal(h.send('order', ok()), 'primary');
  h.rebuild(breakerRules(), new Map([['primary', 'spare'], ['backup', 'nowhere']]));
  assert.equal(h.send('order', ok()), 'spare');
  assert.deepEqual(h.warnings, ["switch backup -> nowhere ignored: unknown cluster 'nowhere'"]);
});

test('switched onto its own failover cluster, an open breaker there rejects instead of looping', () => {
  const h = breakerHarness(breakerRules({
    switch: { primary: 'backup' },
    degrade: [degradeRule({ name: 'backup-errors', cluster: 'backup', kind: 'error_count', threshold: 1, minRequests: 1 })],
  }));
  assert.equal(h.send('order', fail()), 'backup');
  const verdict = h.send('order', ok()) as Rejection;
  assert.equal(verdict.reason, 'circuit_open');
});

test('switch moves the breakers that apply: the switched-to cluster\'s, not the original\'s', () => {
  const h = breakerHarness(breakerRules({
    switch: { primary: 'spare' },
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 1, minRequests: 1, action: 'reject' })],
  }));
  h.breakers.get('primary-errors')?.force('open');
  assert.equal(h.send('order', ok()), 'spare');
});

test('a failover cluster that is itself open answers circuit_open, retrying at the sooner probe', () => {
  const h = breakerHarness(breakerRules({
    degrade: [
      degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 1, minRequests: 1, openForMs: 10_000 }),
      degradeRule({ name: 'backup-errors', cluster: 'backup', kind: 'error_count', threshold: 1, minRequests: 1, openForMs: 4000 }),
    ],
  }));
  assert.equal(h.send('order', fail()), 'primary');
  assert.equal(h.send('order', fail()), 'backup');
  h.advance(1000);
  const verdict = h.send('order', ok()) as Rejection;
  assert.equal(verdict.reason, 'circuit_open');
  assert.equal(verdict.retryAfterMs, 3000);
  h.advance(3000); // backup half-open: a probe goes there
  assert.equal(h.send('order', ok()), 'backup');
});

test('a refusing breaker with action reject wins over another with failover on the same cluster', () => {
  const h = breakerHarness(breakerRules({
    degrade: [
      degradeRule({ name: 'primary-slow', cluster: 'primary', kind: 'rt', threshold: 200, action: 'failover' }),
      degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 1, minRequests: 1, action: 'reject' }),
    ],
  }));
  h.breakers.get('primary-slow')?.force('open');
  assert.equal(h.send('order', ok()), 'backup');
  h.breakers.get('primary-errors')?.force('open');
  assert.equal((h.send('order', ok()) as Rejection).reason, 'circuit_open');
  h.breakers.get('primary-slow')?.force('closed');
  assert.equal((h.send('order', ok()) as Rejection).reason, 'circuit_open');
});

test('failover action without a failover cluster rejects', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'marketing-errors', cluster: 'marketing', kind: 'error_count', threshold: 1, minRequests: 1, action: 'failover' })],
  }));
  assert.equal(h.send('marketing', fail()), 'marketing');
  assert.equal((h.send('marketing', ok()) as Rejection).reason, 'circuit_open');
});

test('a shadow breaker opens and is reported, but never changes routing', async () => {
  const h = breakerHarness(breakerRules({
    degrade: [
      degradeRule({ name: 'primary-shadow', cluster: 'primary', kind: 'error_count', threshold: 3, minRequests: 3, openForMs: 2000, probes: 1, shadow: true, action: 'reject' }),
      degradeRule({ name: 'marketing-shadow', cluster: 'marketing', kind: 'error_count', threshold: 3, minRequests: 3, shadow: true, action: 'failover' }),
    ],
  }));
  const shadow = h.breakers.get('primary-shadow');
  assert.ok(shadow);
  for (let i = 0; i < 10; i++) assert.equal(h.send('order', fail()), 'primary');
  assert.equal(shadow.state, 'open');
  const { ctx } = h.decide('order', 'order-center');
  assert.equal(ctx.cluster, 'primary');
  assert.equal(ctx.shadowed, true);
  const counted = await h.metrics.shadowRejections.get();
  const orderCount = counted.values.find((v) => v.labels.account === 'order-center' && v.labels.class === 'order');
  assert.deepEqual(orderCount?.labels, { account: 'order-center', class: 'order', reason: 'circuit_open' });
  assert.equal(orderCount?.value, 1);

  // It half-opens and closes on its own probes, like a real one.
  h.advance(2000);
  assert.equal(shadow.state, 'half-open');
  assert.equal(h.send('order', ok()), 'primary');
  assert.equal(shadow.state, 'closed');

  // Shadow with action failover on an isolated class: no failover cluster, so a would-be refusal.
  for (let i = 0; i < 3; i++) assert.equal(h.send('marketing', fail()), 'marketing');
  assert.equal(h.decide('marketing').ctx.shadowed, true);
  assert.equal(h.decide('marketing').ctx.cluster, 'marketing');
});

test('a shadow breaker that would only have failed over is not counted as a refusal', async () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-shadow', cluster: 'primary', kind: 'error_count', threshold: 1, minRequests: 1, shadow: true, action: 'failover' })],
  }));
  h.send('order', fail());
  assert.equal(h.breakers.get('primary-shadow')?.state, 'open');
  const { ctx } = h.decide('order');
  assert.equal(ctx.cluster, 'primary');
  assert.equal(ctx.shadowed, false);
  assert.equal((await h.metrics.shadowRejections.get()).values.length, 0);
});

test('without degrade rules the guard only routes', () => {
  const h = breakerHarness(breakerRules({ switch: { marketing: 'spare' } }));
  assert.equal(h.send('order', fail()), 'primary');
  assert.equal(h.send('marketing', fail()), 'spare');
  assert.deepEqual(h.breakers.describe(), []);
  assert.equal(h.breakers.windowClock, null);
  assert.equal(h.windowClock.size, 0);
});

test('a class with no route answers upstream_unavailable', () => {
  for (const rules of [breakerRules(), breakerRules({ degrade: [degradeRule({ name: 'p', cluster: 'primary', kind: 'rt', threshold: 1 })] })]) {
    const h = breakerHarness(rules);
    assert.equal(h.decide('nonexistent').verdict?.reason, 'upstream_unavailable');
  }
});
