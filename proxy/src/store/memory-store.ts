// Counters of one process: the keyed GCRA table, answered synchronously at each take's own time.
import { systemClock, type Clock } from '../clock.ts';
import { GcraTable } from '../limits/gcra-table.ts';
import type { BucketSpec, CounterStore } from './store.ts';

export class MemoryStore implements CounterStore {
  readonly kind = 'memory' as const;
  readonly up = true;
  private readonly clock: Clock;
  private readonly table = new GcraTable();

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  take(buckets: readonly BucketSpec[], at: number = this.clock.now()): number {
    return this.table.take(buckets, at);
  }

  give(buckets: readonly BucketSpec[]): void {
    this.table.give(buckets, this.clock.now());
  }

  /** Drop every bucket whose TAT has passed (it is full: the same as absent). */
  sweep(): void {
    this.table.sweep(this.clock.now());
  }

  /** Buckets held (including full ones not yet swept). */
  get size(): number {
    return this.table.size;
  }

  /** The TAT of a bucket, or undefined: for tests and diagnostics. */
  peek(key: string): number | undefined {
    return this.table.peek(key);
  }

  close(): Promise<void> {
    this.table.clear();
    return Promise.resolve();
  }
}
