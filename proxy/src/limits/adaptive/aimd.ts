// AIMD: additive increase, multiplicative decrease. A window with errors (5xx, timeouts,
// connection failures) or with latency beyond tolerance × noload cuts the limit by a tenth; a
// healthy window in which the limit was in use (peak in-flight ≥ half of it) adds one.
import type { LimitAlgorithm, WindowSummary } from './window.ts';

const BACKOFF = 0.9;

export function aimdAlgorithm(tolerance: number): LimitAlgorithm {
  return {
    next(estimate: number, window: WindowSummary, noloadMs: number): number {
      if (window.errors > 0 || window.meanMs > tolerance * noloadMs) return estimate * BACKOFF;
      return window.peakInflight * 2 >= estimate ? estimate + 1 : estimate;
    },
  };
}
