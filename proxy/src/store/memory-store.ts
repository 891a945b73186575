// Counters of one process: per bucket key, the GCRA theoretical arrival time. Answers
// synchronously. A TAT in the past carries no information (the bucket is full), so such entries
// are dropped by a sweep that runs when the map has doubled since the last one: memory stays
// proportional to the buckets in use, at amortized O(1) per take.
import { systemClock, type Clock } from '../clock.ts';
import { gcraAdvance, gcraRefund } from '../limits/gcra.ts';
import type { BucketSpec, CounterStore } from './store.ts';

const MIN_SWEEP_SIZE = 1024;

export class MemoryStore implements CounterStore {
  readonly kind = 'memory' as const;
  readonly up = true;
  private readonly clock: Clock;
  private readonly tats = new Map<string, number>();
  private sweepAt = MIN_SWEEP_SIZE;

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  take(buckets: readonly BucketSpec[]): number {
    const now = this.clock.now();
    // First pass decides for all buckets, second commits: all or none.
    let wait = 0;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i];
      const tat = this.tats.get(b.key);
      if (tat === undefined || tat <= now) continue;
      const interval = 1000 / b.perSecond;
      const w = tat - b.burst * interval - now;
      if (w > wait) wait = w;
    }
    if (wait > 0) return wait;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i];
      this.tats.set(b.key, gcraAdvance(this.tats.get(b.key), now, 1000 / b.perSecond));
    }
    if (this.tats.size > this.sweepAt) this.sweep();
    return 0;
  }

  give(buckets: readonly BucketSpec[]): void {
    const now = this.clock.now();
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i];
      const tat = this.tats.get(b.key);
      if (tat === undefined) continue;
      const back = gcraRefund(tat, now, 1000 / b.perSecond);
      if (back > now) this.tats.set(b.key, back);
      else this.tats.delete(b.key);
    }
  }

  /** Drop every bucket whose TAT has passed (it is full: the same as absent). */
  sweep(): void {
    const now = this.clock.now();
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.tats.size * 2);
  }

  /** Buckets held (including full ones not yet swept). */
  get size(): number {
    return this.tats.size;
  }

  /** The TAT of a bucket, or undefined: for tests and diagnostics. */
  peek(key: string): number | undefined {
    return this.tats.get(key);
  }

  close(): Promise<void> {
    this.tats.clear();
    return Promise.resolve();
  }
}
