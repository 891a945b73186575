// The per-instance stand-in for shared buckets while Redis is away: the same GCRA table as the
// memory store, with every bucket's rate and burst divided by the fleet size, so the fleet as a
// whole stays near its shared limits. A divided burst keeps at least 1 (unless the rule's burst is
// 0): the local share of a small quota still takes two callers arriving together.
import type { Clock } from '../clock.ts';
import { GcraTable } from '../limits/gcra-table.ts';
import { bucketSpec, type BucketSpec } from './store.ts';

export class LocalBuckets {
  private readonly clock: Clock;
  private readonly divisor: number;
  private readonly table = new GcraTable();
  /** Per bucket list of the rules, its local counterpart (same keys, divided specs). */
  private readonly locals = new WeakMap<readonly BucketSpec[], readonly BucketSpec[]>();

  /** `divisor`: how many instances share each bucket (the rules' `store.instances`). */
  constructor(clock: Clock, divisor: number) {
    this.clock = clock;
    this.divisor = Math.max(1, divisor);
  }

  /**
   * All or none, like the shared store: 0 when admitted, else ms until a retry could succeed.
   * `at`: when the request arrived (a take that first waited on Redis), default now.
   */
  take(buckets: readonly BucketSpec[], at: number = this.clock.now()): number {
    const wait = this.table.take(this.local(buckets), at);
    return wait > 0 ? Math.ceil(wait) : 0;
  }

  give(buckets: readonly BucketSpec[]): void {
    this.table.give(this.local(buckets), this.clock.now());
  }

  /** Buckets held (cells idle for a minute are swept as the table grows). */
  get size(): number {
    return this.table.size;
  }

  private local(buckets: readonly BucketSpec[]): readonly BucketSpec[] {
    let local = this.locals.get(buckets);
    if (local === undefined) {
      const n = this.divisor;
      local = Object.freeze(buckets.map((b) => bucketSpec(b.key, b.perSecond / n, Math.min(b.burst, Math.max(1, b.burst / n)))));
      this.locals.set(buckets, local);
    }
    return local;
  }
}
