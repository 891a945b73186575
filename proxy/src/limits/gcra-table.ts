// Keyed GCRA buckets in one process: per key, its TAT. A take covers several buckets all or none
// (the global cap takes a class bucket and the total together). Serves the memory store and the
// local fallback of the shared store.
//
// Arrivals are judged in time order: an arrival reported after a later one was already judged
// (a take that waited on Redis and is decided here when Redis failed) counts at that later time,
// as GCRA assumes. A TAT in the past carries no information (the bucket is full), so such entries
// are dropped by a sweep that runs when the map has doubled since the last one: memory stays
// proportional to the buckets in use, at amortized O(1) per take.
import { gcraAdvance, gcraRefund, gcraWait, type GcraSpec } from './gcra.ts';

/** A bucket: its key and its GCRA spec. */
export interface KeyedGcra extends GcraSpec {
  readonly key: string;
}

const MIN_SWEEP_SIZE = 1024;

export class GcraTable {
  private readonly tats = new Map<string, number>();
  private sweepAt = MIN_SWEEP_SIZE;
  /** Latest arrival time judged so far. */
  private latest = Number.NEGATIVE_INFINITY;

  /** 0 when admitted (one unit taken from every bucket), else ms until a retry could succeed. */
  take(buckets: readonly KeyedGcra[], at: number): number {
    if (at > this.latest) this.latest = at;
    else at = this.latest;
    // First pass decides for all buckets, second commits: all or none.
    let wait = 0;
    for (let i = 0; i < buckets.length; i++) {
      const w = gcraWait(this.tats.get(buckets[i].key), at, buckets[i]);
      if (w > wait) wait = w;
    }
    if (wait > 0) return wait;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i];
      this.tats.set(b.key, gcraAdvance(this.tats.get(b.key), at, b));
    }
    if (this.tats.size > this.sweepAt) this.sweep(at);
    return 0;
  }

  /** Give one unit back to every bucket (a later check refused the request). */
  give(buckets: readonly KeyedGcra[], now: number): void {
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i];
      const tat = this.tats.get(b.key);
      if (tat === undefined) continue;
      const back = gcraRefund(tat, now, b);
      if (back > now) this.tats.set(b.key, back);
      else this.tats.delete(b.key);
    }
  }

  /** Drop every bucket whose TAT has passed (it is full: the same as absent). */
  sweep(now: number): void {
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.tats.size * 2);
  }

  /** Buckets held (including full ones not yet swept). */
  get size(): number {
    return this.tats.size;
  }

  /** The TAT of a bucket, or undefined. */
  peek(key: string): number | undefined {
    return this.tats.get(key);
  }

  clear(): void {
    this.tats.clear();
  }
}
