import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { bucketSpec } from '../../src/store/store.ts';

describe('MemoryStore', () => {
  it('is a synchronous memory store that is always up', async () => {
    const store = new MemoryStore(new ManualClock());
    assert.equal(store.kind, 'memory');
    assert.equal(store.up, true);
    assert.equal(typeof store.take([bucketSpec('a', 1, 0)]), 'number');
    await store.close();
  });

  it('takes all buckets or none', () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    const wide = bucketSpec('wide', 100, 10);
    const narrow = bucketSpec('narrow', 1, 0);
    assert.equal(store.take([narrow, wide]), 0);
    const wideBefore = store.peek('wide');
    const wait = store.take([narrow, wide]);
    assert.ok(Math.abs(wait - 1000) < 1e-9);
    assert.equal(store.peek('wide'), wideBefore, 'the bucket with room gave nothing');
    assert.equal(store.take([wide]), 0);
  });

  it('answers the longest wait among the full buckets', () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    const a = bucketSpec('a', 10, 0);
    const b = bucketSpec('b', 2, 0);
    assert.equal(store.take([a, b]), 0);
    assert.equal(store.take([a, b]), 500);
  });

  it('stays bounded: buckets whose TAT has passed are swept as the map grows', () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    for (let i = 0; i < 200_000; i++) {
      store.take([bucketSpec(`k${i}`, 1000, 0)]);
      clock.advance(0.01); // each bucket is full again 1 ms later: 100 live at a time
    }
    assert.ok(store.size <= 2048, `held ${store.size}`);
    clock.advance(10);
    store.sweep();
    assert.equal(store.size, 0);
  });

  it('give on a full or unknown bucket changes nothing', () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    const b = bucketSpec('g', 1, 0);
    store.give([b]);
    assert.equal(store.peek('g'), undefined);
    store.take([b]);
    store.give([b]);
    assert.equal(store.peek('g'), undefined, 'a bucket back to full is dropped');
  });
});
