import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { CLOSED_RETRY_MS, gcraAdvance, gcraClosed, gcraFill, gcraRefund, gcraSpec, gcraWait } from '../../src/limits/gcra.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { bucketSpec, type BucketSpec } from '../../src/store/store.ts';

/** Offers one request every `stepMs` for `durationMs` and answers the admission times. */
function offer(store: MemoryStore, clock: ManualClock, bucket: BucketSpec, stepMs: number, durationMs: number): number[] {
  const admitted: number[] = [];
  const end = clock.now() + durationMs;
  for (; clock.now() < end; clock.advance(stepMs)) {
    if (store.take([bucket]) === 0) admitted.push(clock.now());
  }
  return admitted;
}

/** The most admissions in any window [t, t + spanMs) starting at an admission (the worst starts). */
function maxInSpan(times: readonly number[], spanMs: number): number {
  let most = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (j < times.length && times[j] < times[i] + spanMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('GCRA arithmetic', () => {
  it('admits burst + 1 at once from idle, then one per interval', () => {
    const spec = gcraSpec(10, 2); // interval 100 ms, tolerance 200 ms
    let tat: number | undefined;
    let admitted = 0;
    for (let i = 0; i < 10; i++) {
      if (gcraWait(tat, 0, spec) === 0) {
        tat = gcraAdvance(tat, 0, spec);
        admitted++;
      }
    }
    assert.equal(admitted, 3);
    assert.equal(gcraWait(tat, 0, spec), 100);
    assert.equal(gcraWait(tat, 100, spec), 0);
    assert.equal(gcraFill(tat ?? 0, 0, spec), 1);
  });

  it('refund gives back one interval but never goes below now', () => {
    const spec = gcraSpec(10, 0);
    assert.equal(gcraRefund(500, 0, spec), 400);
    assert.equal(gcraRefund(50, 0, spec), 0);
    assert.equal(gcraRefund(500, 450, spec), 450);
  });

  it('precomputes interval and tolerance; rate 0 is a closed bucket; refuses negative or non-finite values', () => {
    assert.deepEqual(gcraSpec(200, 20), { perSecond: 200, burst: 20, interval: 5, tolerance: 100 });
    const closed = gcraSpec(0, 5);
    assert.equal(gcraClosed(closed), true);
    assert.equal(gcraWait(undefined, 0, closed), CLOSED_RETRY_MS, 'a closed bucket never admits, even idle');
    assert.throws(() => gcraSpec(-1, 0), RangeError);
    assert.throws(() => gcraSpec(Infinity, 0), RangeError);
    assert.throws(() => gcraSpec(10, -1), RangeError);
  });
});

describe('quota 200/s through the memory store', () => {
  it('a saturating 3 s run admits 600 ± 3% plus the burst', () => {
    for (const burst of [0, 20]) {
      const clock = new ManualClock(1000);
      const store = new MemoryStore(clock);
      const admitted = offer(store, clock, bucketSpec(`q${burst}`, 200, burst), 1, 3000);
      const expected = 600 + burst;
      assert.ok(Math.abs(admitted.length - expected) <= 600 * 0.03, `burst ${burst}: admitted ${admitted.length}, expected ~${expected}`);
    }
  });

  it('no span of t seconds admits more than rate × t + burst + 1, at every start offset', () => {
    const rate = 200;
    const burst = 10;
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    const bucket = bucketSpec('edge', rate, burst);
    // Saturation, an idle gap (the bucket refills), then saturation again: the worst edges.
    const times = [...offer(store, clock, bucket, 0.25, 1500)];
    clock.advance(2000);
    times.push(...offer(store, clock, bucket, 0.25, 1500));
    for (const spanMs of [1, 5, 50, 100, 333, 1000, 1500]) {
      const bound = (rate * spanMs) / 1000 + burst + 1;
      assert.ok(maxInSpan(times, spanMs) <= bound, `span ${spanMs} ms: ${maxInSpan(times, spanMs)} > ${bound}`);
    }
    // Every start offset on a 0.25 ms grid over the whole run, not just admission instants.
    const last = times[times.length - 1];
    for (let start = 0; start <= last; start += 0.25) {
      let n = 0;
      for (const t of times) if (t >= start && t < start + 1000) n++;
      if (n > rate + burst + 1) assert.fail(`1 s window from ${start} admitted ${n}`);
    }
  });

  it('retry-after is exact: waiting it admits, waiting less does not', () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    const bucket = bucketSpec('r', 4, 1);
    assert.equal(store.take([bucket]), 0);
    assert.equal(store.take([bucket]), 0);
    const wait = store.take([bucket]);
    assert.equal(wait, 250);
    clock.advance(wait - 0.5);
    assert.ok(store.take([bucket]) > 0);
    clock.advance(0.5);
    assert.equal(store.take([bucket]), 0);
  });

  it('refund restores one admission, and never more than a full bucket', () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    const bucket = bucketSpec('f', 10, 2);
    for (let i = 0; i < 3; i++) assert.equal(store.take([bucket]), 0);
    assert.ok(store.take([bucket]) > 0);
    store.give([bucket]);
    assert.equal(store.take([bucket]), 0);
    assert.ok(store.take([bucket]) > 0);
    for (let i = 0; i < 10; i++) store.give([bucket]);
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (store.take([bucket]) === 0) admitted++;
    assert.equal(admitted, 3, 'refunds never bank more than burst + 1');
  });
});
