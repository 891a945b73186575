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

  it('stays bounded: buckets idle for a minute are swept as the map grows, busy ones are kept', () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    for (let i = 0; i < 200_000; i++) {
      store.take([bucketSpec(`k${i}`, 1000, 0)]);
      clock.advance(1); // 200 000 keys over 200 s: at most 60 000 touched in the last minute
    }
    assert.ok(store.size <= 130_000, `held ${store.size}`);
    // A working set that stays busy is never dropped and remade: its cells are written in place.
    const busy = Array.from({ length: 5000 }, (_, i) => bucketSpec(`busy${i}`, 1000, 0));
    for (let round = 0; round < 20; round++) {
      for (const b of busy) store.take([b]);
      clock.advance(1000);
    }
    for (const b of busy) assert.notEqual(store.peek(b.key), undefined);
    clock.advance(61_000);
    store.sweep();
    assert.equal(store.size, 0);
  });

  it('give on a full or unknown bucket changes nothing', () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore(clock);
    const b = bucketSpec('g', 1, 0);
    store.give([b]);
    assert.equal(store.peek('g'), undefined);
    assert.equal(store.take([b]), 0);
    assert.ok(store.take([b]) > 0, 'strict spacing: the second at once is refused');
    store.give([b]);
    assert.ok((store.peek('g') ?? 0) <= clock.now(), 'given back: the bucket is full again');
    assert.equal(store.take([b]), 0);
    store.give([b]);
    store.give([b]);
    assert.ok((store.peek('g') ?? 0) <= clock.now(), 'a second give on a full bucket adds nothing');
    assert.equal(store.take([b]), 0);
    assert.ok(store.take([b]) > 0);
  });
});
