// Where shared counters live. Every limiter (account quota, global cap, class ceiling) speaks to
// one of these; the memory store answers synchronously, the Redis stores with a promise.
import { gcraSpec } from '../limits/gcra.ts';
import type { KeyedGcra } from '../limits/gcra-table.ts';

/**
 * A smooth rate bucket (GCRA): `perSecond` with `burst` extra, so no span of t seconds admits
 * more than rate × t + burst + 1. Interval and tolerance are worked out once, by `bucketSpec`.
 */
export interface BucketSpec extends KeyedGcra {
  /** Stable key, unique per rule and subject (e.g. `acct:order-center`). */
  readonly key: string;
}

/** A frozen bucket spec; rate 0 makes a closed bucket (admits nothing). */
export function bucketSpec(key: string, perSecond: number, burst: number): BucketSpec {
  return Object.freeze({ key, ...gcraSpec(perSecond, burst) });
}

export interface CounterStore {
  readonly kind: 'memory' | 'redis' | 'redis-cluster';
  /**
   * Take one unit from each bucket, all or none: when any bucket has no room, nothing is taken.
   * The request counts at the time of this call, however the store batches it: `at` when given
   * (the request's arrival on the guards' clock, read once for all of its guards), else now.
   * Answers 0 when admitted, else the milliseconds (> 0) until a retry could succeed, or a
   * negative number when the shared store is unreachable and the rules say `on_failure: reject`
   * (answered 503 store_unavailable).
   */
  take(buckets: readonly BucketSpec[], at?: number): number | Promise<number>;
  /** Give one unit back to each bucket (a later check rejected the request). */
  give(buckets: readonly BucketSpec[]): void;
  /** True while shared state is reachable (always true for memory). */
  readonly up: boolean;
  close(): Promise<void>;
}
