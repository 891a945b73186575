// The adaptive-limit guard: classes sharing a cluster's limit in priority order (SPEC §9),
// failover traffic on the cluster it goes to, shadow mode, refund and settle, reloads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { buildAdaptiveGuard } from '../../src/guards/adaptive.ts';
import { Metrics } from '../../src/metrics.ts';
import type { AdaptiveRules, ClassRules } from '../../src/rules/types.ts';
import type { RequestContext } from '../../src/request-context.ts';
import { StateRegistry } from '../../src/state-registry.ts';
import { fakeContext } from '../helpers/fake-context.ts';
import { makeRules } from '../helpers/rules-fixture.ts';

const CLASSES: ClassRules[] = [
  { name: 'order', priority: 0, cluster: 'primary', failover: 'backup', maxShare: 1 },
  { name: 'search', priority: 1, cluster: 'primary', failover: null, maxShare: 1 },
  { name: 'batch', priority: 2, cluster: 'primary', failover: null, maxShare: 1 },
  { name: 'marketing', priority: 3, cluster: 'marketing', failover: null, maxShare: 1 },
];

function rule(over: Partial<AdaptiveRules> = {}): AdaptiveRules {
  return { cluster: 'primary', algorithm: 'gradient', initialLimit: 10, minLimit: 2, maxLimit: 100, tolerance: 2, reserve: 0.2, shadow: false, ...over };
}

function setup(adaptive: AdaptiveRules[], registry = new StateRegistry()) {
  const clock = new ManualClock(0);
  const metrics = new Metrics({ defaultMetrics: false });
  const built = buildAdaptiveGuard(makeRules({ classes: CLASSES, adaptive }), { clock, metrics, registry });
  assert.ok(built !== null);
  return { ...built, clock, metrics, registry };
}

function request(className: string, cluster: string): RequestContext {
  const ctx = fakeContext();
  ctx.className = className;
  ctx.accountId = `${className}-caller`;
  ctx.cluster = cluster;
  return ctx;
}

/** Admits requests of `className` until refused; answers how many were admitted. */
function fill(guard: { check(ctx: RequestContext): unknown }, className: string, cluster = 'primary', held: RequestContext[] = []): number {
  for (let n = 0; n < 1000; n++) {
    const ctx = request(className, cluster);
    if (guard.check(ctx) !== null) return n;
    held.push(ctx);
  }
  return 1000;
}

test('classes sharing a cluster: the class at position k of n stops at L × (1 − reserve × k / (n − 1))', () => {
  const { guard } = setup([rule()]);
  // order, search and batch share primary (L = 10): batch below 8, search below 9, order to 10.
  assert.equal(fill(guard, 'batch'), 8);
  assert.equal(fill(guard, 'search'), 1);
  assert.equal(fill(guard, 'order'), 1);
  const refusal = guard.check(request('order', 'primary'));
  assert.deepEqual(refusal, { reason: 'overloaded', retryAfterMs: 1000, limit: null, settlesAs: null });
});

test('a lone class may use all of L; a cluster without a rule is not limited', () => {
  const { guard } = setup([rule({ cluster: 'marketing', initialLimit: 5 })]);
  assert.equal(fill(guard, 'marketing', 'marketing'), 5);
  assert.equal(fill(guard, 'batch', 'primary'), 1000);
});

test('failover traffic counts on the cluster it is sent to', () => {
  const { guard, describe } = setup([rule(), rule({ cluster: 'backup', initialLimit: 3 })]);
  const held: RequestContext[] = [];
  // order is the only class that reaches backup: alone there, it may fill all of backup's limit.
  assert.equal(fill(guard, 'order', 'backup', held), 3);
  const views = describe();
  assert.equal(views.find((v) => v.cluster === 'backup')?.inflight, 3);
  assert.equal(views.find((v) => v.cluster === 'primary')?.inflight, 0);
  assert.deepEqual(views.find((v) => v.cluster === 'backup')?.classes, [{ class: 'order', share: 1, admitted_below: 3 }]);
});

test('settle frees the slot and feeds the latency back; refund frees it without a measurement', () => {
  const { guard, describe, clock } = setup([rule({ initialLimit: 4 })]);
  const held: RequestContext[] = [];
  assert.equal(fill(guard, 'order', 'primary', held), 4);
  clock.advance(20);
  guard.settle?.(held[0], { status: 200, upstreamMs: 20, error: null });
  guard.refund?.(held[1]);
  // A client that left first tells nothing: released, not measured.
  guard.settle?.(held[2], { status: 499, upstreamMs: 5, error: null });
  assert.equal(describe()[0].inflight, 1);
  // Settling twice gives back nothing more.
  guard.settle?.(held[0], { status: 200, upstreamMs: 20, error: null });
  assert.equal(describe()[0].inflight, 1);
  assert.equal(fill(guard, 'order'), 3);
});

test('the limit learns from settled latency: it shrinks when latency passes tolerance × no-load', () => {
  const { guard, describe, clock } = setup([rule({ initialLimit: 20 })]);
  const roundTrip = (latencyMs: number, count: number): void => {
    for (let i = 0; i < count; i++) {
      const ctx = request('order', 'primary');
      if (guard.check(ctx) !== null) continue;
      clock.advance(1);
      guard.settle?.(ctx, { status: 200, upstreamMs: latencyMs, error: null });
    }
  };
  for (let w = 0; w < 5; w++) roundTrip(20, 200);
  assert.equal(Math.round(describe()[0].noload_ms), 20);
  for (let w = 0; w < 10; w++) roundTrip(100, 200);
  const after = describe()[0];
  assert.ok(after.limit < 10, `limit ${after.limit}`);
  assert.ok(after.noload_ms < 25, `noload ${after.noload_ms} does not follow the overload`);
});

test('shadow: counts what it would refuse and admits', () => {
  const { guard, metrics } = setup([rule({ initialLimit: 2, shadow: true })]);
  const ctxs = [request('order', 'primary'), request('order', 'primary'), request('order', 'primary')];
  for (const ctx of ctxs) assert.equal(guard.check(ctx), null);
  assert.equal(ctxs[2].shadowed, true);
  assert.equal(ctxs[1].shadowed, false);
  assert.equal(metrics.shadowRejections.labels('order-caller', 'order', 'overloaded').value, 1);
});

test('a reload keeps the learned limit and the requests in flight of an unchanged rule; a changed reserve keeps them too', () => {
  const registry = new StateRegistry();
  registry.begin();
  const first = setup([rule({ initialLimit: 4 })], registry);
  registry.commit();
  const held: RequestContext[] = [];
  fill(first.guard, 'order', 'primary', held);
  registry.begin();
  const second = setup([rule({ initialLimit: 4, reserve: 0.5 })], registry);
  registry.commit();
  assert.equal(second.describe()[0].inflight, 4);
  assert.equal(fill(second.guard, 'order'), 0);
  // A request admitted under the old policy settles on the same controller.
  first.guard.settle?.(held[0], { status: 200, upstreamMs: 10, error: null });
  assert.equal(second.describe()[0].inflight, 3);
  registry.begin();
  const third = setup([rule({ initialLimit: 4, tolerance: 3 })], registry);
  registry.commit();
  assert.equal(third.describe()[0].inflight, 0, 'a changed tolerance starts learning afresh');
});

test('the gauges show the limits in force, by cluster', async () => {
  const { metrics, controllers, guard } = setup([rule({ initialLimit: 7 })]);
  metrics.showAdaptive(controllers);
  fill(guard, 'order', 'primary');
  const text = await metrics.registry.metrics();
  assert.match(text, /sluice_adaptive_limit\{cluster="primary"\} 7/);
  assert.match(text, /sluice_adaptive_inflight\{cluster="primary"\} 7/);
  assert.match(text, /sluice_adaptive_min_rtt_seconds\{cluster="primary"\} 0/);
});

test('fast failures (refused connections, a drill\'s aborts) do not drag the no-load latency down; timeouts count as latency', () => {
  const { guard, describe, clock } = setup([rule({ initialLimit: 20 })]);
  const round = (outcome: { status: number; upstreamMs: number; error: string | null }, count: number): void => {
    for (let i = 0; i < count; i++) {
      const ctx = request('order', 'primary');
      if (guard.check(ctx) !== null) continue;
      clock.advance(1);
      guard.settle?.(ctx, outcome);
    }
  };
  for (let w = 0; w < 5; w++) round({ status: 200, upstreamMs: 40, error: null }, 200);
  assert.equal(Math.round(describe()[0].noload_ms), 40);
  // Half the answers are instant aborts: the estimate and the limit stay put.
  const limit = describe()[0].limit;
  for (let w = 0; w < 5; w++) {
    round({ status: 503, upstreamMs: 0, error: 'fault' }, 100);
    round({ status: 200, upstreamMs: 40, error: null }, 100);
  }
  assert.equal(Math.round(describe()[0].noload_ms), 40);
  assert.ok(describe()[0].limit >= limit, `limit ${describe()[0].limit}`);
  // Timeouts are the slowest latency there is: the limit comes down.
  for (let w = 0; w < 10; w++) round({ status: 504, upstreamMs: 1000, error: 'timeout' }, 200);
  assert.ok(describe()[0].limit < limit / 2, `limit ${describe()[0].limit} after timeouts`);
});
