// One measurement window of an adaptive limit: what the exchanges that ended in it looked like,
// and whether the limit was binding while they ran. The algorithms and the no-load tracker read
// it once, when it closes.

export interface WindowSummary {
  /** Exchanges that ended in the window. */
  readonly count: number;
  /** Their mean latency (to response headers), ms; fast failures left out; 0 when none is left. */
  readonly meanMs: number;
  /** How many of them were errors (5xx, timeouts, connection failures). */
  readonly errors: number;
  /** Most requests in flight at once during the window. */
  readonly peakInflight: number;
  /** Whether a request was (or, in shadow mode, would have been) refused at the limit. */
  readonly refused: boolean;
  /** The window's length, ms. */
  readonly elapsedMs: number;
}

/** How a limit moves, given the window that just closed and the tracked no-load latency. */
export interface LimitAlgorithm {
  /** The next estimate (unclamped, fractional) from the current one. */
  next(estimate: number, window: WindowSummary, noloadMs: number): number;
}

/** The settings every algorithm shares; the compiled `limits.adaptive` rule carries them. */
export interface AdaptiveSettings {
  readonly algorithm: 'gradient' | 'aimd';
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Sampled latency may grow to tolerance × the no-load latency before the limit shrinks. */
  readonly tolerance: number;
}
