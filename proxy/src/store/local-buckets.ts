// The per-instance stand-in for shared buckets while Redis is away: the same GCRA, in memory,
// with every bucket's rate and burst divided by the fleet size, so the fleet as a whole stays
// near its shared limits.
import type { Clock } from '../clock.ts';
import { gcraAdvance, gcraRefund, gcraWait } from '../limits/gcra.ts';
import type { BucketSpec } from './store.ts';

interface LocalSpec {
  readonly interval: number;
  readonly tolerance: number;
}

/** Past this many tracked buckets, full ones (TAT in the past) are dropped. */
const PRUNE_AT = 10_000;
const CLOSED_RETRY_MS = 1000;

export class LocalBuckets {
  private readonly clock: Clock;
  private readonly divisor: number;
  private readonly tats = new Map<string, number>();
  private readonly specs = new WeakMap<BucketSpec, LocalSpec>();

  /** `divisor`: how many instances share each bucket (the rules' `store.instances`). */
  constructor(clock: Clock, divisor: number) {
    this.clock = clock;
    this.divisor = Math.max(1, divisor);
  }

  /** All or none, like the shared store: 0 when admitted, else ms until a retry could succeed. */
  take(buckets: readonly BucketSpec[]): number {
    const now = this.clock.now();
    let wait = 0;
    for (let i = 0; i < buckets.length; i++) {
      const spec = this.spec(buckets[i]);
      if (spec.interval === Infinity) return CLOSED_RETRY_MS;
      const w = gcraWait(this.tats.get(buckets[i].key), now, spec.interval, spec.tolerance);
      if (w > wait) wait = w;
    }
    if (wait > 0) return Math.ceil(wait);
    if (this.tats.size > PRUNE_AT) this.prune(now);
    for (let i = 0; i < buckets.length; i++) {
      const key = buckets[i].key;
      this.tats.set(key, gcraAdvance(this.tats.get(key), now, this.spec(buckets[i]).interval));
    }
    return 0;
  }

  give(buckets: readonly BucketSpec[]): void {
    const now = this.clock.now();
    for (let i = 0; i < buckets.length; i++) {
      const key = buckets[i].key;
      const tat = this.tats.get(key);
      if (tat === undefined) continue;
      const back = gcraRefund(tat, now, this.spec(buckets[i]).interval);
      if (back > now) this.tats.set(key, back);
      else this.tats.delete(key);
    }
  }

  /** Buckets currently tracked (not full). */
  get size(): number {
    return this.tats.size;
  }

  private spec(bucket: BucketSpec): LocalSpec {
    let spec = this.specs.get(bucket);
    if (spec === undefined) {
      const perSecond = bucket.perSecond / this.divisor;
      const interval = perSecond > 0 ? 1000 / perSecond : Infinity;
      spec = { interval, tolerance: interval === Infinity ? 0 : (Math.max(0, bucket.burst) / this.divisor) * interval };
      this.specs.set(bucket, spec);
    }
    return spec;
  }

  private prune(now: number): void {
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
  }
}
