// Local lease bookkeeping (store/lease.ts): units are spent only before their own slot passes,
// a renewal that comes back early waits behind the units still held, and a list of buckets is
// spent all or none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BucketLease, bucketLeases, LEASE_LIFETIME_MS, LEASE_TOLERANCE_SHARE, MIN_LEASE_UNITS, spendLeased } from '../../src/store/lease.ts';

/** 1000/s (1 ms interval) with 400 ms tolerance: a 10 ms lifetime and room for 90 units. */
function lease(): BucketLease {
  const leases = bucketLeases(['k'], [{ interval: 1, tolerance: 400 }]);
  assert.ok(leases !== null);
  return leases[0];
}

function spendAll(l: BucketLease, now: number): number {
  let spent = 0;
  while (l.ready(now)) {
    l.spend();
    spent++;
  }
  return spent;
}

describe('BucketLease', () => {
  it('sizes the lifetime and the units within its share of the tolerance', () => {
    const l = lease();
    assert.equal(l.lifetime, LEASE_LIFETIME_MS);
    // Lifetime plus units stay within the share: 10 ms + 90 × 1 ms = 100 ms = 400 × 0.25.
    assert.equal(l.maxUnits, 400 * LEASE_TOLERANCE_SHARE - LEASE_LIFETIME_MS);
  });

  it('refuses to lease a bucket too tight to hold a lease', () => {
    // Burst 0: no tolerance at all.
    assert.equal(bucketLeases(['k'], [{ interval: 1, tolerance: 0 }]), null);
    // Room for fewer than MIN_LEASE_UNITS units.
    assert.equal(bucketLeases(['k'], [{ interval: 10, tolerance: 10 * MIN_LEASE_UNITS }]), null);
    // One tight bucket makes the whole list unleasable: spent all or none.
    assert.equal(bucketLeases(['a', 'b'], [{ interval: 1, tolerance: 400 }, { interval: 1, tolerance: 0 }]), null);
  });

  it('holds nothing until granted', () => {
    assert.equal(lease().ready(0), false);
  });

  it('spends each unit only until its slot passes', () => {
    const l = lease();
    // Five units, slots at 10, 11, 12, 13, 14 ms.
    l.grant(0, 10, 5);
    assert.equal(spendAll(l, 0), 5);
    l.grant(0, 10, 5);
    // At 12.5 the units of slots 10, 11 and 12 have passed: two are left.
    assert.equal(spendAll(l, 12.5), 2);
    l.grant(0, 10, 5);
    assert.equal(l.ready(14.01), false, 'every slot passed');
  });

  it('keeps an early renewal behind the units still held', () => {
    const l = lease();
    l.grant(0, 10, 3);
    l.spend();
    assert.ok(l.ready(1));
    l.grant(1, 20, 4);
    // Two left of the first grant, then the four of the second.
    assert.equal(spendAll(l, 2), 6);
  });

  it('asks for the next lease when few units are left or the last is about to pass', () => {
    const l = lease();
    l.grant(0, 10, 8);
    assert.equal(l.low(0, 2, 1), false);
    assert.ok(l.ready(0));
    for (let i = 0; i < 6; i++) l.spend();
    assert.equal(l.low(0, 2, 1), true, 'two left');
    const m = lease();
    m.grant(0, 10, 8);
    // The last slot is at 17 ms: within 1 ms of it, the next lease is due.
    assert.equal(m.low(15.5, 2, 1), false);
    assert.equal(m.low(16.5, 2, 1), true);
  });

  it('spends a list all or none', () => {
    const [a, b] = bucketLeases(['a', 'b'], [{ interval: 1, tolerance: 400 }, { interval: 1, tolerance: 400 }]) ?? [];
    a.grant(0, 10, 2);
    b.grant(0, 10, 1);
    assert.equal(spendLeased([a, b], 0), true);
    // b is empty: a keeps its unit.
    assert.equal(spendLeased([a, b], 0), false);
    assert.equal(spendAll(a, 0), 1);
  });
});
