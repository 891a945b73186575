// The TypeScript GCRA against the shared vectors (the Lua copy runs the same table on a real
// redis-server: test/store/gcra-lua-vectors.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { gcraSpec } from '../../src/limits/gcra.ts';
import { HotKeyTable } from '../../src/limits/hot-key-table.ts';
import { LocalBuckets } from '../../src/store/local-buckets.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { bucketSpec, type BucketSpec } from '../../src/store/store.ts';
import { GCRA_VECTORS, matches, type GcraVector } from './gcra-vectors.ts';

/** Runs `vector` through `take` (one call per arrival, the clock set to its time). */
function run(vector: GcraVector, take: (buckets: readonly BucketSpec[], at: number) => number): number[] {
  const specs = vector.buckets.map((b, i) => bucketSpec(`vector:${i}`, b.rate, b.burst));
  // One frozen list per distinct subset, as compiled rules would hold them.
  const lists = new Map<string, readonly BucketSpec[]>();
  const listOf = (indexes: readonly number[]) => {
    const id = indexes.join(',');
    let list = lists.get(id);
    if (list === undefined) {
      list = Object.freeze(indexes.map((i) => specs[i]));
      lists.set(id, list);
    }
    return list;
  };
  const all = vector.buckets.map((_, i) => i);
  return vector.takes.map((t) => take(listOf(t.buckets ?? all), t.at));
}

function check(vector: GcraVector, answers: readonly number[], unitMs: number, what: string): void {
  vector.takes.forEach((t, i) => {
    assert.ok(matches(answers[i], t.expect, unitMs), `${what}, ${vector.name}: take ${i} at ${t.at} answered ${answers[i]}, expected ${t.expect}`);
  });
}

describe('GCRA vectors, TypeScript', () => {
  for (const vector of GCRA_VECTORS) {
    it(vector.name, () => {
      const clock = new ManualClock(0);
      const memory = new MemoryStore(clock);
      check(vector, run(vector, (b, at) => (clock.set(at), memory.take(b))), 1e-9, 'memory store');

      // The local fallback with a fleet of one: the same arithmetic, waits rounded up to ms.
      const localClock = new ManualClock(0);
      const local = new LocalBuckets(localClock, 1);
      check(vector, run(vector, (b, at) => (localClock.set(at), local.take(b))), 1, 'local buckets');
      // ... and given the arrival time instead of reading the clock (a take that waited on Redis).
      const late = new LocalBuckets(new ManualClock(1e9), 1);
      check(vector, run(vector, (b, at) => late.take(b, at)), 1, 'local buckets, arrival times given');

      if (vector.buckets.length === 1) {
        const [only] = vector.buckets;
        const table = new HotKeyTable({ name: 'vector', track: 10, rate: gcraSpec(only.rate, only.burst) });
        check(vector, run(vector, (_b, at) => table.take('k', at)), 1e-9, 'hot-key table');
      }
    });
  }
});
