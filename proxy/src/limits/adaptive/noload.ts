// The no-load latency of a cluster, learned from live traffic: never by pinning concurrency down
// to measure it (that is what makes Envoy's minRTT windows refuse bursts of requests), and never
// ratcheted up by the queueing the limit itself allows (the drift of a plain long-term average
// under sustained load). It falls fast to any lower window mean, and rises only slowly, and only
// from windows whose latency the limit did not cause: the limit was far from binding (peak
// in-flight × tolerance ≤ limit, so that window's concurrency cannot have queued more than the
// settled limit would), or the limit sat at min_limit (the least this sidecar can send: what is
// still slow there is the cluster's own latency, which the estimate must be able to learn).
import type { WindowSummary } from './window.ts';

/**
 * The first windows only learn: their lowest mean is the estimate. The very first requests pay
 * for new connections and cold code; one window of them alone would set the estimate too high,
 * and a limit compared with a too-high estimate lets a queue build that it then never sees past.
 */
export const LEARNING_WINDOWS = 5;
/** Share of the gap to a lower window mean closed at once. */
const FALL_RATE = 0.5;
/** Time constant of a rise, ms: the estimate takes about this long to follow a slower cluster. */
const RISE_TAU_MS = 10_000;

export class NoLoadTracker {
  /** Milliseconds; 0 until the first window. */
  private value = 0;
  private readonly tolerance: number;
  private windows = 0;

  constructor(tolerance: number) {
    this.tolerance = tolerance;
  }

  get ms(): number {
    return this.value;
  }

  /** Past the learning windows: the limit may move on the estimate. */
  get known(): boolean {
    return this.windows >= LEARNING_WINDOWS;
  }

  /** `limit`: the integer limit in force during the window; `atMin`: it was min_limit. */
  observe(window: WindowSummary, limit: number, atMin: boolean): void {
    const sample = window.meanMs;
    if (!(sample > 0)) return;
    if (this.windows < LEARNING_WINDOWS) {
      this.windows++;
      this.value = this.value === 0 ? sample : Math.min(this.value, sample);
      return;
    }
    if (sample <= this.value) {
      this.value += (sample - this.value) * FALL_RATE;
      return;
    }
    const farFromBinding = !window.refused && window.peakInflight * this.tolerance <= limit;
    if (!farFromBinding && !atMin) return;
    // Bounded step: one window moves the estimate toward at most tolerance × itself.
    const target = Math.min(sample, this.value * this.tolerance);
    this.value += (target - this.value) * (1 - Math.exp(-window.elapsedMs / RISE_TAU_MS));
  }
}
