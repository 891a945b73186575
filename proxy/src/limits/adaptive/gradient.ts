// Gradient (in the spirit of Netflix's Gradient2): the limit scales by
// min(1, tolerance × noload / sample), never by less than half per window, and while latency is
// within tolerance it grows by a small queue allowance (½√limit per window) — but only when the
// limit is in use (peak in-flight ≥ half of it), so an idle cluster does not build up a limit
// that a surge would then fill at once. Decreases are smoothed by half.
import type { LimitAlgorithm, WindowSummary } from './window.ts';

const MIN_GRADIENT = 0.5;
const SMOOTHING = 0.5;

export function gradientAlgorithm(tolerance: number): LimitAlgorithm {
  return {
    next(estimate: number, window: WindowSummary, noloadMs: number): number {
      const ratio = window.meanMs > 0 ? (tolerance * noloadMs) / window.meanMs : 1;
      if (ratio >= 1) {
        return window.peakInflight * 2 >= estimate ? estimate + Math.sqrt(estimate) * SMOOTHING : estimate;
      }
      const target = estimate * Math.max(MIN_GRADIENT, ratio);
      return estimate + (target - estimate) * SMOOTHING;
    },
  };
}
