// What a mirror keeps across rules reloads (it lives in the state registry under the mirror's
// identity): copies in flight (so max_in_flight holds through a reload), result counts, the last
// mismatches, and the control log's rate limit. Only the control path reads it (/admin/mirrors).
import type { CounterSeries, HotCounter } from '../hot-metrics.ts';

export type MirrorResult = 'match' | 'mismatch' | 'error' | 'dropped';
export const MIRROR_RESULTS: readonly MirrorResult[] = ['match', 'mismatch', 'error', 'dropped'];

/** Mismatches kept for /admin/mirrors. */
export const RECENT_MISMATCHES = 50;
/** At most one mismatch sample per mirror in the control log per this many ms. */
export const MISMATCH_LOG_INTERVAL_MS = 1000;

/** One mismatch as shown: where and what differed, never a value or a body. */
export interface MismatchSample {
  readonly at: string;
  readonly method: string;
  /** Path with data-carrying segments collapsed, e.g. /members/{id}. */
  readonly route: string;
  /** Status of the answer the caller got, and of the copy. */
  readonly status: readonly [number, number];
  /** JSON Pointer paths that differ ([] when the status or the raw bytes differ). */
  readonly paths: readonly string[];
  /** How the bodies were compared: json, bytes, or sha256 (above the capture limit). */
  readonly compared: 'status' | 'json' | 'bytes' | 'sha256';
}

export type MismatchLog = (mirror: string, sample: MismatchSample, suppressed: number) => void;

export class MirrorState {
  readonly name: string;
  inFlight: number;
  private readonly series: Readonly<Record<MirrorResult, CounterSeries>>;
  private readonly recent: MismatchSample[];
  private nextRecent: number;
  private lastLogAt: number;
  private suppressed: number;

  constructor(name: string, counter: HotCounter) {
    this.name = name;
    this.inFlight = 0;
    this.series = {
      match: counter.labels(name, 'match'),
      mismatch: counter.labels(name, 'mismatch'),
      error: counter.labels(name, 'error'),
      dropped: counter.labels(name, 'dropped'),
    };
    this.recent = [];
    this.nextRecent = 0;
    this.lastLogAt = -Infinity;
    this.suppressed = 0;
  }

  count(result: MirrorResult): void {
    this.series[result].inc();
  }

  mismatch(sample: MismatchSample, now: number, log: MismatchLog | null): void {
    this.series.mismatch.inc();
    if (this.recent.length < RECENT_MISMATCHES) this.recent.push(sample);
    else this.recent[this.nextRecent] = sample;
    this.nextRecent = (this.nextRecent + 1) % RECENT_MISMATCHES;
    if (log === null) return;
    if (now - this.lastLogAt < MISMATCH_LOG_INTERVAL_MS) {
      this.suppressed++;
      return;
    }
    this.lastLogAt = now;
    log(this.name, sample, this.suppressed);
    this.suppressed = 0;
  }

  describe(): { counts: Record<MirrorResult, number>; in_flight: number; recent_mismatches: MismatchSample[] } {
    const counts = { match: 0, mismatch: 0, error: 0, dropped: 0 };
    for (const result of MIRROR_RESULTS) counts[result] = this.series[result].value;
    // Newest first.
    const ordered: MismatchSample[] = [];
    for (let i = 1; i <= this.recent.length; i++) {
      ordered.push(this.recent[(this.nextRecent - i + RECENT_MISMATCHES) % RECENT_MISMATCHES]);
    }
    return { counts, in_flight: this.inFlight, recent_mismatches: ordered };
  }
}
