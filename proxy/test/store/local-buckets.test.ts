import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { LocalBuckets } from '../../src/store/local-buckets.ts';
import { bucketSpec } from '../../src/store/store.ts';

describe('LocalBuckets (the fallback while Redis is away)', () => {
  it('divides rate and burst by the fleet size', () => {
    const clock = new ManualClock(1000);
    const local = new LocalBuckets(clock, 4);
    const quota = [bucketSpec('acct:a', 400, 8)];
    // 100/s locally with burst 2: three at once, then one every 10 ms.
    assert.deepEqual([local.take(quota), local.take(quota), local.take(quota)], [0, 0, 0]);
    assert.equal(local.take(quota), 10);
    clock.advance(10);
    assert.equal(local.take(quota), 0);
    let admitted = 0;
    for (let ms = 0; ms < 1000; ms++) {
      clock.advance(1);
      if (local.take(quota) === 0) admitted++;
    }
    assert.equal(admitted, 100);
  });

  it('takes all or none and refunds', () => {
    const clock = new ManualClock(0);
    const local = new LocalBuckets(clock, 1);
    const total = bucketSpec('{global}:total', 1, 0);
    const cls = bucketSpec('{global}:class:order', 1, 1);
    assert.equal(local.take([total, cls]), 0);
    assert.equal(local.take([total, cls]), 1000);
    assert.equal(local.take([cls]), 0, 'the rejected take left the class bucket untouched');
    assert.ok(local.take([cls]) > 0);
    local.give([total]);
    assert.equal(local.take([total]), 0);
  });

  it('never admits at rate 0, and a refund makes room again', () => {
    const clock = new ManualClock(0);
    const local = new LocalBuckets(clock, 2);
    assert.equal(local.take([bucketSpec('closed', 0, 5)]), 1000);
    const spec = [bucketSpec('acct:b', 2, 0)];
    assert.equal(local.take(spec), 0);
    assert.equal(local.size, 1);
    assert.ok(local.take(spec) > 0, 'the local share (1/s, burst 0) spaces requests');
    local.give(spec);
    assert.equal(local.take(spec), 0, 'the refunded request left room');
  });
});
