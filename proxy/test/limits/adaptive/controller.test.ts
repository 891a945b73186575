// The adaptive limit against a simulated cluster of fixed capacity (C at once, service time S,
// FIFO beyond C), on an injected clock: exact and instant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdaptiveSettings } from '../../../src/limits/adaptive/window.ts';
import { SimulatedCluster } from './simulated-cluster.ts';

const C = 8;
const S = 50;
const CAPACITY_PER_S = (C * 1000) / S; // 160/s

function settings(algorithm: 'gradient' | 'aimd', over: Partial<AdaptiveSettings> = {}): AdaptiveSettings {
  return { algorithm, initialLimit: 8, minLimit: 2, maxLimit: 1000, tolerance: 2, ...over };
}

for (const algorithm of ['gradient', 'aimd'] as const) {
  test(`${algorithm}: the limit grows while latency stays within tolerance`, () => {
    // A cluster far larger than the demand: every request is served in S, however many at once.
    const sim = new SimulatedCluster(settings(algorithm, { initialLimit: 4 }));
    const figures = sim.run({ seconds: 10, offeredPerSecond: 1000, capacity: 1000, serviceMs: S });
    console.log(`${algorithm} grows: limit 4 → ${figures.limit}, refused ${figures.refused}, mean ${figures.meanLatencyMs.toFixed(1)} ms`);
    // 1000/s × 50 ms = 50 in flight needed.
    assert.ok(figures.limit >= 50, `limit ${figures.limit} should reach the 50 the demand needs`);
    const after = sim.run({ seconds: 2, offeredPerSecond: 1000, capacity: 1000, serviceMs: S });
    assert.equal(after.refused, 0, 'once converged, nothing is refused');
    assert.ok(Math.abs(after.meanLatencyMs - S) < 2);
  });

  test(`${algorithm}: the limit backs off when latency exceeds tolerance × the no-load latency`, () => {
    const sim = new SimulatedCluster(settings(algorithm));
    sim.run({ seconds: 1, offeredPerSecond: CAPACITY_PER_S / 4, capacity: C, serviceMs: S });
    // Push the limit well past the capacity, as a cluster that had more capacity would have it.
    const surge = sim.run({ seconds: 10, offeredPerSecond: 3 * CAPACITY_PER_S, capacity: C, serviceMs: S });
    console.log(
      `${algorithm} 3x overload: limit ${surge.limit} (range ${surge.minLimit}-${surge.maxLimit}), goodput ${surge.goodput.toFixed(0)}/s of ${CAPACITY_PER_S}, ` +
        `mean ${surge.meanLatencyMs.toFixed(0)} ms, p99 ${surge.p99LatencyMs} ms, noload ${surge.noloadMs.toFixed(1)} ms`,
    );
    assert.ok(surge.goodput >= 0.9 * CAPACITY_PER_S, `goodput ${surge.goodput}`);
    assert.ok(surge.p99LatencyMs <= 3 * S, `p99 ${surge.p99LatencyMs}`);
    assert.ok(surge.limit <= 3 * C, `limit ${surge.limit} stays near tolerance × C`);
  });

  test(`${algorithm}: an initial limit far above the capacity comes down`, () => {
    const sim = new SimulatedCluster(settings(algorithm, { initialLimit: 200 }));
    sim.run({ seconds: 1, offeredPerSecond: CAPACITY_PER_S / 4, capacity: C, serviceMs: S });
    sim.run({ seconds: 10, offeredPerSecond: 3 * CAPACITY_PER_S, capacity: C, serviceMs: S });
    const settled = sim.run({ seconds: 5, offeredPerSecond: 3 * CAPACITY_PER_S, capacity: C, serviceMs: S });
    console.log(`${algorithm} from 200: limit ${settled.limit}, p99 ${settled.p99LatencyMs} ms`);
    assert.ok(settled.maxLimit <= 3 * C, `limit ${settled.maxLimit}`);
    assert.ok(settled.p99LatencyMs <= 3 * S);
  });

  test(`${algorithm}: the limit recovers once the cluster is fast again`, () => {
    const sim = new SimulatedCluster(settings(algorithm));
    const demand = 3 * CAPACITY_PER_S;
    sim.run({ seconds: 5, offeredPerSecond: demand, capacity: C, serviceMs: S });
    const healthy = sim.controller.limit;
    // The cluster slows to 4 × S (the lunch hour): the limit must fall.
    const slow = sim.run({ seconds: 5, offeredPerSecond: demand, capacity: C, serviceMs: 4 * S });
    assert.ok(slow.limit <= healthy / 2, `limit ${slow.limit} during the slowdown, ${healthy} before`);
    const back = sim.timeToReach({ seconds: 10, offeredPerSecond: demand, capacity: C, serviceMs: S }, Math.ceil(healthy * 0.8));
    console.log(`${algorithm} recovery: ${healthy} → ${slow.limit} during the slowdown → back to ≥ 80% in ${back} ms`);
    assert.notEqual(back, null, 'the limit grows back');
    assert.ok((back as number) <= 3000, `took ${back} ms`);
  });

  test(`${algorithm}: sustained overload does not ratchet the no-load latency up`, () => {
    const sim = new SimulatedCluster(settings(algorithm));
    sim.run({ seconds: 1, offeredPerSecond: CAPACITY_PER_S / 4, capacity: C, serviceMs: S });
    const early = sim.run({ seconds: 5, offeredPerSecond: 3 * CAPACITY_PER_S, capacity: C, serviceMs: S });
    const late = sim.run({ seconds: 120, offeredPerSecond: 3 * CAPACITY_PER_S, capacity: C, serviceMs: S });
    console.log(
      `${algorithm} two minutes at 3x: noload ${early.noloadMs.toFixed(1)} → ${late.noloadMs.toFixed(1)} ms, ` +
        `limit ${early.limit} → ${late.limit} (max ${late.maxLimit}), p99 ${late.p99LatencyMs} ms`,
    );
    assert.ok(late.noloadMs <= 1.1 * S, `noload ${late.noloadMs}`);
    assert.ok(late.maxLimit <= 3 * C, `limit ${late.maxLimit}`);
    assert.ok(late.p99LatencyMs <= 3 * S);
  });
}

test('a cluster that really became slower is learned while the limit sits at min_limit, and the limit leaves it', () => {
  const sim = new SimulatedCluster(settings('gradient', { minLimit: 4 }));
  sim.run({ seconds: 2, offeredPerSecond: CAPACITY_PER_S / 4, capacity: C, serviceMs: S });
  // Three times slower for good; the demand keeps coming (3x the slower cluster's capacity).
  const later = sim.run({ seconds: 30, offeredPerSecond: CAPACITY_PER_S, capacity: C, serviceMs: 3 * S });
  const slowCapacity = (C * 1000) / (3 * S);
  console.log(
    `slower cluster: noload ${S} → ${later.noloadMs.toFixed(0)} ms, limit ${later.minLimit}-${later.maxLimit} (now ${later.limit}), ` +
      `goodput ${later.goodput.toFixed(0)}/s of ${slowCapacity.toFixed(0)}`,
  );
  assert.ok(later.noloadMs > 1.3 * S, `noload ${later.noloadMs} follows the slower cluster`);
  assert.ok(later.limit > 4, 'the limit leaves min_limit again');
  // The estimate stops rising once the limit leaves min_limit (by design: past it, latency is
  // partly the limit's own queue), so it settles short of the new service time and the limit
  // at about the slower cluster's concurrency: busy, not necessarily every slot at every moment.
  assert.ok(later.goodput >= 0.85 * slowCapacity, 'and the slower cluster is kept busy');
});

test('aimd backs off on errors even when latency is fine', () => {
  const sim = new SimulatedCluster(settings('aimd', { initialLimit: 40 }));
  sim.run({ seconds: 1, offeredPerSecond: 400, capacity: 1000, serviceMs: S });
  const failing = sim.run({ seconds: 3, offeredPerSecond: 400, capacity: 1000, serviceMs: S, errorShare: 0.2 });
  assert.ok(failing.limit <= 4, `limit ${failing.limit}`);
});

test('the limit stays within min_limit and max_limit', () => {
  const sim = new SimulatedCluster(settings('gradient', { initialLimit: 10, minLimit: 6, maxLimit: 12 }));
  sim.run({ seconds: 1, offeredPerSecond: 40, capacity: 1000, serviceMs: S });
  const big = sim.run({ seconds: 5, offeredPerSecond: 2000, capacity: 1000, serviceMs: S });
  assert.equal(big.maxLimit, 12);
  const slow = sim.run({ seconds: 5, offeredPerSecond: 2000, capacity: 1, serviceMs: S });
  assert.equal(slow.minLimit, 6);
});

test('an idle cluster does not build up its limit', () => {
  const sim = new SimulatedCluster(settings('gradient', { initialLimit: 10 }));
  const idle = sim.run({ seconds: 20, offeredPerSecond: 40, capacity: 1000, serviceMs: S });
  assert.equal(idle.maxLimit, 10);
});

test('one slow window alone holds the limit; a second in a row moves it', async () => {
  const { ManualClock } = await import('../../../src/clock.ts');
  const { AdaptiveController } = await import('../../../src/limits/adaptive/controller.ts');
  const clock = new ManualClock(0);
  const c = new AdaptiveController(settings('gradient', { initialLimit: 20 }), clock);
  /** One window of `count` exchanges, each `latencyMs`, with the limit in use. */
  const window = (latencyMs: number, count = 20): void => {
    for (let i = 0; i < count; i++) c.enter();
    for (let i = 0; i < count; i++) {
      clock.advance(120 / count);
      c.finish(latencyMs, false);
    }
  };
  for (let w = 0; w < 8; w++) window(50);
  const before = c.limit;
  window(500);
  assert.equal(c.limit, before, 'a single slow window (a pause) holds');
  window(50);
  window(500);
  window(500);
  assert.ok(c.limit < before, `two in a row: ${before} → ${c.limit}`);
});
