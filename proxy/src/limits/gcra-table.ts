// Keyed GCRA buckets in one process: per key, its TAT. A take covers several buckets all or none
// (the global cap takes a class bucket and the total together). Serves the memory store and the
// local fallback of the shared store.
//
// Arrivals are judged in time order: an arrival reported after a later one was already judged
// (a take that waited on Redis and is decided here when Redis failed) counts at that later time,
// as GCRA assumes.
//
// Each bucket is a small cell whose TAT is written in place. A Map<string, number> boxed every
// new TAT in a fresh heap number, which lived until that key's next take and so was promoted to
// the old generation: with 10 000 accounts at 15 000 req/s that and the sweep's delete/re-insert
// churn were ~15 MB/s of old-space garbage (sampled with `HeapProfiler.startSampling`,
// includeObjectsCollectedByMajorGC), which V8 lets pile up in RSS before it compacts.
import { gcraAdvance, gcraRefund, gcraWait, type GcraSpec } from './gcra.ts';

/** A bucket: its key and its GCRA spec. */
export interface KeyedGcra extends GcraSpec {
  readonly key: string;
}

class Cell {
  tat: number;
  constructor(tat: number) {
    this.tat = tat;
  }
}

const MIN_SWEEP_SIZE = 1024;
/**
 * A cell whose TAT passed this long ago is dropped by a sweep. Any passed TAT means a full bucket,
 * the same as no cell; waiting a minute keeps the cells of the buckets in use (bounded by the
 * rules) instead of dropping and remaking them.
 */
const IDLE_MS = 60_000;

export class GcraTable {
  private readonly cells = new Map<string, Cell>();
  private sweepAt = MIN_SWEEP_SIZE;
  /** Latest arrival time judged so far. */
  private latest = Number.NEGATIVE_INFINITY;

  /** 0 when admitted (one unit taken from every bucket), else ms until a retry could succeed. */
  take(buckets: readonly KeyedGcra[], at: number): number {
    if (at > this.latest) this.latest = at;
    else at = this.latest;
    // An account quota is one bucket: one Map lookup instead of one per pass (with 10 000
    // accounts the Map is mostly out of the CPU's caches).
    if (buckets.length === 1) return this.takeOne(buckets[0], at);
    // First pass decides for all buckets, second commits: all or none.
    let wait = 0;
    for (let i = 0; i < buckets.length; i++) {
      const w = gcraWait(this.cells.get(buckets[i].key)?.tat, at, buckets[i]);
      if (w > wait) wait = w;
    }
    if (wait > 0) return wait;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i];
      const cell = this.cells.get(b.key);
      if (cell !== undefined) cell.tat = gcraAdvance(cell.tat, at, b);
      else this.cells.set(b.key, new Cell(gcraAdvance(undefined, at, b)));
    }
    if (this.cells.size > this.sweepAt) this.sweep(at);
    return 0;
  }

  private takeOne(b: KeyedGcra, at: number): number {
    const cell = this.cells.get(b.key);
    const wait = gcraWait(cell?.tat, at, b);
    if (wait > 0) return wait;
    if (cell !== undefined) cell.tat = gcraAdvance(cell.tat, at, b);
    else {
      this.cells.set(b.key, new Cell(gcraAdvance(undefined, at, b)));
      if (this.cells.size > this.sweepAt) this.sweep(at);
    }
    return 0;
  }

  /** Give one unit back to every bucket (a later check refused the request). */
  give(buckets: readonly KeyedGcra[], now: number): void {
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i];
      const cell = this.cells.get(b.key);
      if (cell !== undefined && cell.tat > now) cell.tat = gcraRefund(cell.tat, now, b);
    }
  }

  /**
   * Drop the cells idle for a minute, so memory follows the buckets in use (a reload that removes
   * accounts leaves cells behind). Runs when the table has doubled since the last sweep:
   * amortized O(1) per take.
   */
  sweep(now: number): void {
    for (const [key, cell] of this.cells) if (cell.tat <= now - IDLE_MS) this.cells.delete(key);
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.cells.size * 2);
  }

  /** Buckets held (including full ones not yet swept). */
  get size(): number {
    return this.cells.size;
  }

  /** The TAT of a bucket, or undefined. */
  peek(key: string): number | undefined {
    return this.cells.get(key)?.tat;
  }

  clear(): void {
    this.cells.clear();
  }
}
