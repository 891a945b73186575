// Shared GCRA test vectors: arrival sequences and the verdict each arrival must get. The
// TypeScript GCRA (limits/gcra.ts, through the memory store, the local fallback buckets and the
// hot-key table) and the Redis Lua script (store/gcra-lua.ts, on a real redis-server) are both
// run against this one table, so the two copies of the arithmetic cannot drift apart.
//
// Times are ms from the start of the sequence, non-decreasing (the order a sidecar sends them).
// Rates are chosen so intervals are exact binary fractions: ties (a wait of exactly 0) are then
// exact in both copies, and the boundary itself is tested.

export interface VectorBucket {
  readonly rate: number;
  readonly burst: number;
}

export interface VectorTake {
  readonly at: number;
  /** Indexes of the buckets this take covers, all or none (default: every bucket). */
  readonly buckets?: readonly number[];
  /** 0: admitted; else the wait in ms from `at` until a retry could succeed. */
  readonly expect: number;
}

export interface GcraVector {
  readonly name: string;
  readonly buckets: readonly VectorBucket[];
  readonly takes: readonly VectorTake[];
}

/** `n` takes at `at`, each expecting `expect`. */
function same(n: number, at: number, expect = 0): VectorTake[] {
  return Array.from({ length: n }, () => ({ at, expect }));
}

/** Bunches of `size` simultaneous arrivals every `everyMs`, `count` bunches, all admitted. */
function bunches(size: number, everyMs: number, count: number): VectorTake[] {
  const takes: VectorTake[] = [];
  for (let i = 0; i < count; i++) takes.push(...same(size, i * everyMs));
  return takes;
}

export const GCRA_VECTORS: readonly GcraVector[] = [
  {
    name: 'burst 0: a second arrival in the same instant is one too many, however slow the caller',
    buckets: [{ rate: 10, burst: 0 }],
    takes: [
      { at: 0, expect: 0 },
      { at: 0, expect: 100 },
      { at: 99, expect: 1 },
      { at: 100, expect: 0 },
      { at: 150, expect: 50 },
      { at: 250, expect: 0 },
    ],
  },
  {
    name: 'burst + 1 at once, then one per interval; a wait of exactly 0 admits',
    buckets: [{ rate: 4, burst: 2 }],
    takes: [
      ...same(3, 0),
      { at: 0, expect: 250 },
      { at: 250, expect: 0 },
      { at: 250, expect: 250 },
      ...same(3, 1000),
      { at: 1000, expect: 250 },
    ],
  },
  {
    name: 'an idle gap refills the bucket to full, never beyond',
    buckets: [{ rate: 10, burst: 2 }],
    takes: [...same(3, 0), { at: 0, expect: 100 }, ...same(3, 10_000), { at: 10_000, expect: 100 }],
  },
  {
    name: 'arrivals spaced within one batch keep their spacing (1000/s, burst 0, one per ms)',
    buckets: [{ rate: 1000, burst: 0 }],
    takes: [...Array.from({ length: 10 }, (_, i) => ({ at: i, expect: 0 })), { at: 9.5, expect: 0.5 }, { at: 10, expect: 0 }],
  },
  {
    name: 'the default burst: 16 callers firing together at half of 2000/s are never refused',
    buckets: [{ rate: 2000, burst: 200 }],
    takes: bunches(16, 16, 20),
  },
  {
    name: 'the default burst at saturation: burst + 1 at once, then exactly the rate',
    buckets: [{ rate: 2000, burst: 200 }],
    takes: [...same(201, 0), { at: 0, expect: 0.5 }, { at: 0.5, expect: 0 }, { at: 0.5, expect: 0.5 }, ...same(2, 1.5), { at: 1.5, expect: 0.5 }],
  },
  {
    name: 'a fine interval (4096/s: 0.244140625 ms) keeps sub-millisecond waits',
    buckets: [{ rate: 4096, burst: 4 }],
    takes: [...same(5, 0), { at: 0, expect: 0.244140625 }, { at: 0.244140625, expect: 0 }],
  },
  {
    name: 'a slow rate (0.5/s) with burst 1',
    buckets: [{ rate: 0.5, burst: 1 }],
    takes: [...same(2, 0), { at: 0, expect: 2000 }, { at: 2000, expect: 0 }, { at: 2000, expect: 2000 }],
  },
  {
    name: 'all or none: a take refused by one bucket takes nothing from the other',
    buckets: [
      { rate: 1, burst: 0 },
      { rate: 1000, burst: 1 },
    ],
    takes: [
      { at: 0, expect: 0 },
      { at: 0, expect: 1000 },
      { at: 0, buckets: [1], expect: 0 },
      { at: 0, buckets: [1], expect: 1 },
      { at: 1000, expect: 0 },
    ],
  },
  {
    name: 'the longest wait among the full buckets',
    buckets: [
      { rate: 8, burst: 0 },
      { rate: 2, burst: 0 },
    ],
    takes: [
      { at: 0, expect: 0 },
      { at: 0, expect: 500 },
      { at: 125, expect: 375 },
      { at: 125, buckets: [0], expect: 0 },
    ],
  },
];

/** The verdicts an implementation gave, one per take. */
export type Verdicts = number[];

/** Whether a wait answered in `unitMs` steps (rounded up) matches the expected wait. */
export function matches(answer: number, expect: number, unitMs: number): boolean {
  if (expect === 0) return answer === 0;
  return answer > 0 && answer >= expect - 1e-9 && answer <= expect + unitMs + 1e-9;
}
