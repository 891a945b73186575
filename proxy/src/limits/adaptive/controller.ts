// One cluster's adaptive concurrency limit: the requests in flight to it from this sidecar, the
// limit L they are held to, and the windows of finished exchanges L is recomputed from. Pure
// logic on an injected clock; the guard (guards/adaptive.ts) calls it on the request path, so
// nothing here allocates per request.
import type { Clock } from '../../clock.ts';
import type { InflightSlot } from '../../request-context.ts';
import { aimdAlgorithm } from './aimd.ts';
import { gradientAlgorithm } from './gradient.ts';
import { NoLoadTracker } from './noload.ts';
import type { AdaptiveSettings, LimitAlgorithm, WindowSummary } from './window.ts';

/** A window lasts at least this long, ms... */
const MIN_WINDOW_MS = 100;
/** ...and at least this many no-load latencies, so each request can end in it a few times. */
const WINDOW_NOLOADS = 2;
/** A window closes once it holds this many exchanges (or has lasted LONG_WINDOWS windows). */
const MIN_SAMPLES = 8;
const LONG_WINDOWS = 4;
/**
 * Latency below this is compared as if it were this, ms: a sidecar's own scheduling jitter is a
 * few milliseconds, and tolerance × a sub-millisecond no-load latency would shed on that noise.
 */
export const NOLOAD_FLOOR_MS = 5;

export interface AdaptiveReading {
  readonly limit: number;
  readonly inflight: number;
  /** Milliseconds; 0 until learned. */
  readonly noloadMs: number;
  readonly minLimit: number;
}

export class AdaptiveController implements AdaptiveReading, InflightSlot {
  readonly settings: AdaptiveSettings;
  /** The integer limit admission compares against: ⌊estimate⌋ within [min_limit, max_limit]. */
  limit: number;
  /** Requests admitted and not yet finished. */
  inflight = 0;
  private estimate: number;
  private readonly clock: Clock;
  private readonly algorithm: LimitAlgorithm;
  private readonly noload: NoLoadTracker;
  // The open window.
  private windowStart: number;
  private count = 0;
  /** Exchanges whose latency counts (all but fast failures), and the sum of their latencies. */
  private timed = 0;
  private sumMs = 0;
  private errors = 0;
  private peak = 0;
  private refused = false;
  /** The last window's latency was beyond tolerance: the next one confirms it or clears it. */
  private suspect = false;
  private readonly summary: { -readonly [K in keyof WindowSummary]: WindowSummary[K] } = {
    count: 0,
    meanMs: 0,
    errors: 0,
    peakInflight: 0,
    refused: false,
    elapsedMs: 0,
  };

  constructor(settings: AdaptiveSettings, clock: Clock) {
    this.settings = settings;
    this.clock = clock;
    this.algorithm = settings.algorithm === 'aimd' ? aimdAlgorithm(settings.tolerance) : gradientAlgorithm(settings.tolerance);
    this.noload = new NoLoadTracker(settings.tolerance);
    this.estimate = settings.initialLimit;
    this.limit = this.clamp(settings.initialLimit);
    this.windowStart = clock.now();
  }

  get minLimit(): number {
    return this.settings.minLimit;
  }

  get noloadMs(): number {
    return this.noload.ms;
  }

  /** Whether one more request fits under `share` × L (share 1 for the first class). */
  admits(share: number): boolean {
    return this.inflight < this.limit * share;
  }

  /** A request was (or in shadow mode would have been) refused at the limit. */
  noteRefusal(): void {
    this.refused = true;
  }

  /** A request admitted: it is in flight until finish() or cancel(). */
  enter(): void {
    if (++this.inflight > this.peak) this.peak = this.inflight;
  }

  /** A request admitted and then not sent (a later guard refused it): it tells nothing. */
  cancel(): void {
    if (this.inflight > 0) this.inflight--;
  }

  /** The exchange of an admitted request ended after `latencyMs`. */
  finish(latencyMs: number, isError: boolean): void {
    if (this.inflight > 0) this.inflight--;
    this.count++;
    if (isError) this.errors++;
    // A failure answered faster than the no-load latency (a refused connection, an instant 5xx, a
    // drill's abort) says nothing about queueing: it would only drag the latency down. Slow
    // failures (timeouts) are latency like any other.
    if (!isError || latencyMs >= this.noload.ms) {
      this.timed++;
      this.sumMs += latencyMs;
    }
    const now = this.clock.now();
    const elapsed = now - this.windowStart;
    const windowMs = Math.max(MIN_WINDOW_MS, WINDOW_NOLOADS * this.noload.ms);
    if (elapsed < windowMs) return;
    if (this.count < MIN_SAMPLES && elapsed < windowMs * LONG_WINDOWS) return;
    this.closeWindow(now, elapsed);
  }

  private closeWindow(now: number, elapsed: number): void {
    const s = this.summary;
    s.count = this.count;
    s.meanMs = this.timed === 0 ? 0 : this.sumMs / this.timed;
    s.errors = this.errors;
    s.peakInflight = this.peak;
    s.refused = this.refused;
    s.elapsedMs = elapsed;
    const atMin = this.limit <= this.settings.minLimit;
    const known = this.noload.known;
    this.noload.observe(s, this.limit, atMin);
    // The first windows only teach the no-load latency: the limit stays at initial_limit meanwhile.
    if (known) {
      const reference = Math.max(NOLOAD_FLOOR_MS, this.noload.ms);
      // One slow window alone (a pause of this process or the cluster's, a burst of answers held
      // up behind it) holds the limit; a second one in a row confirms the overload and moves it.
      const over = s.meanMs > this.settings.tolerance * reference;
      if (over && !this.suspect) this.suspect = true;
      else {
        this.suspect = over;
        const { minLimit, maxLimit } = this.settings;
        this.estimate = Math.min(maxLimit, Math.max(minLimit, this.algorithm.next(this.estimate, s, reference)));
        this.limit = this.clamp(this.estimate);
      }
    }
    this.windowStart = now;
    this.count = 0;
    this.timed = 0;
    this.sumMs = 0;
    this.errors = 0;
    this.peak = this.inflight;
    this.refused = false;
  }

  private clamp(estimate: number): number {
    return Math.min(this.settings.maxLimit, Math.max(this.settings.minLimit, Math.floor(estimate)));
  }
}
