import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HotKeyRecords } from '../../src/limits/hot-key-records.ts';
import { KeyIndex, NO_ENTRY } from '../../src/limits/key-index.ts';

/** A deterministic stream of numbers in [0, 1). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

/** Values of every kind the index stores: short Latin-1, long, and with characters past 255. */
function valueOf(i: number): string {
  switch (i % 4) {
    case 0:
      return String(i);
    case 1:
      return `2001:db8:85a3::8a2e:370:${i.toString(16)}`;
    case 2:
      return `mémbre-${i}`;
    default:
      return `会员-${i}`;
  }
}

function insert(index: KeyIndex, value: string, n: number): void {
  index.insert(value, 0, value.length, index.hash(value, 0, value.length), n);
}

describe('KeyIndex', () => {
  it('agrees with a Map over a long run of inserts and removals', () => {
    const records = new HotKeyRecords(1 << 16);
    const index = new KeyIndex(records);
    const model = new Map<string, number>();
    const byEntry = new Map<number, string>();
    const next = random(7);
    for (let step = 0; step < 60_000; step++) {
      const value = valueOf(Math.floor(next() * 5000));
      const held = model.get(value);
      assert.equal(index.lookup(value), held ?? NO_ENTRY, `step ${step}: ${value}`);
      if (held === undefined) {
        const n = records.claim();
        insert(index, value, n);
        model.set(value, n);
        byEntry.set(n, value);
      } else if (next() < 0.6) {
        index.remove(held);
        records.release(held);
        model.delete(value);
        byEntry.delete(held);
      }
      assert.equal(index.size, model.size);
    }
    for (const [value, n] of model) {
      assert.equal(index.lookup(value), n);
      assert.equal(index.keyOf(n), value);
    }
  });

  it('finds a value inside a longer string, by its range', () => {
    const records = new HotKeyRecords(16);
    const index = new KeyIndex(records);
    insert(index, '10086', 0);
    insert(index, '2001:db8::1:2:3:4:5:6:7', 1);
    const path = '/members/10086/level';
    assert.equal(index.find(path, 9, 14, index.hash(path, 9, 14)), 0);
    assert.equal(index.find(path, 9, 13, index.hash(path, 9, 13)), NO_ENTRY, 'a prefix is another value');
    const header = 'via 2001:db8::1:2:3:4:5:6:7';
    assert.equal(index.find(header, 4, header.length, index.hash(header, 4, header.length)), 1);
  });

  it('re-seeds when a probe runs long, and every value stays found', () => {
    const records = new HotKeyRecords(4096);
    // Any collision re-seeds (at most once per `size` inserts).
    const index = new KeyIndex(records, 0);
    for (let n = 0; n < 3000; n++) insert(index, valueOf(n), n);
    assert.ok(index.reseeds >= 5, `re-seeded ${index.reseeds} times`);
    assert.ok(index.reseeds <= 13, `re-seeded ${index.reseeds} times: more than once per doubling`);
    for (let n = 0; n < 3000; n += 2) index.remove(n);
    for (let n = 0; n < 3000; n++) assert.equal(index.lookup(valueOf(n)), n % 2 === 0 ? NO_ENTRY : n, valueOf(n));
    assert.equal(index.size, 1500);
  });

  it('two indexes hash the same value differently (seeded at random)', () => {
    const a = new KeyIndex(new HotKeyRecords(1));
    const b = new KeyIndex(new HotKeyRecords(1));
    const hashes = (index: KeyIndex) => ['1', '2', '3', '4'].map((v) => index.hash(v, 0, 1)).join();
    assert.notEqual(hashes(a), hashes(b));
  });
});
