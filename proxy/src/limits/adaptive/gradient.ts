// Gradient (in the spirit of Netflix's Gradient2): the limit scales by
// min(1, tolerance × noload / sample), never by less than half per window, smoothed by half.
// While latency is within tolerance it grows by a queue allowance of up to ½√limit per window:
// the whole allowance while latency is well inside tolerance, less as it nears the edge, so the
// limit approaches the knee instead of overshooting it. It grows only when the limit is in use
// (peak in-flight ≥ half of it), so an idle cluster does not build up a limit that a surge
// would then fill at once.
import type { LimitAlgorithm, WindowSummary } from './window.ts';

const MIN_GRADIENT = 0.5;
const SMOOTHING = 0.5;
/** Headroom (ratio − 1) at which growth takes the whole allowance; the least share it takes. */
const FULL_GROWTH_HEADROOM = 0.25;
const MIN_GROWTH_SHARE = 0.1;

export function gradientAlgorithm(tolerance: number): LimitAlgorithm {
  return {
    next(estimate: number, window: WindowSummary, noloadMs: number): number {
      // Nothing but fast failures: no latency to judge by (AIMD backs off on the errors).
      if (!(window.meanMs > 0)) return estimate;
      const ratio = (tolerance * noloadMs) / window.meanMs;
      if (ratio >= 1) {
        if (window.peakInflight * 2 < estimate) return estimate;
        const share = Math.min(1, Math.max(MIN_GROWTH_SHARE, (ratio - 1) / FULL_GROWTH_HEADROOM));
        return estimate + Math.sqrt(estimate) * SMOOTHING * share;
      }
      const target = estimate * Math.max(MIN_GRADIENT, ratio);
      return estimate + (target - estimate) * SMOOTHING;
    },
  };
}
