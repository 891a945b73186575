// A class's `split` (SPEC §12): which of its admitted requests go to the split cluster instead of
// the class's own. With `sticky`, the choice is a stable hash of the key value mapped onto
// [0, 10000) and compared with percent x 100: one value always lands on the same side at a given
// percent, and raising the percent only ever moves values to the split cluster (the set below the
// threshold grows). Without `sticky`, an error-diffusion counter sends exactly `percent` of them.
// Compiled once per policy; deciding is a few arithmetic operations and no allocation beyond the
// key substring.
import { hash32 } from '../hash.ts';
import type { CounterSeries } from '../hot-metrics.ts';
import { compileKeyExtractor, type KeyExtractor } from '../limits/key-extractor.ts';
import type { RequestContext } from '../guards/guard.ts';
import type { SplitRules } from '../rules/types.ts';

/** Hash space of a sticky choice: percent has steps of 0.01. */
export const SPLIT_SCALE = 10_000;

export interface SplitCounters {
  /** sluice_split_requests_total{class, cluster=<class's cluster>} */
  readonly home: CounterSeries;
  /** sluice_split_requests_total{class, cluster=<split target>} */
  readonly moved: CounterSeries;
}

export class SplitDecision {
  /** Split target (after `switch`). */
  readonly to: string;
  /** percent x 100: a hash below it, or the counter passing it, goes to `to`. */
  readonly threshold: number;
  private readonly key: KeyExtractor | null;
  private readonly counters: SplitCounters;
  private carry: number;

  constructor(rules: SplitRules, to: string, counters: SplitCounters) {
    this.to = to;
    this.threshold = Math.round(rules.percent * 100);
    this.key = rules.sticky === null ? null : compileKeyExtractor(rules.sticky);
    this.counters = counters;
    this.carry = 0;
  }

  /** True when this request goes to the split cluster. Counts the choice. */
  moves(ctx: RequestContext): boolean {
    const moved = this.key === null ? this.nextShare() : this.stickyChoice(ctx);
    (moved ? this.counters.moved : this.counters.home).inc();
    return moved;
  }

  private stickyChoice(ctx: RequestContext): boolean {
    const value = (this.key as KeyExtractor)(ctx);
    // No key value (another route shape): not a keyed read, it stays on the class's cluster.
    if (value === null) return false;
    return splitBucket(value) < this.threshold;
  }

  /** Error diffusion: exactly threshold / SPLIT_SCALE of the calls answer true, evenly spread. */
  private nextShare(): boolean {
    this.carry += this.threshold;
    if (this.carry < SPLIT_SCALE) return false;
    this.carry -= SPLIT_SCALE;
    return true;
  }
}

/**
 * The bucket of a key value in [0, SPLIT_SCALE), from the shared stable string hash. Stable across
 * processes and versions: changing it would move ids between stores mid-migration.
 */
export function splitBucket(value: string): number {
  return hash32(value) % SPLIT_SCALE;
}
