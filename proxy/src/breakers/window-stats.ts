// Counters of one breaker's statistics window (calls, errors, sum of response times) and of the
// window before it. Windows are aligned on their start: rotation advances by whole windows, so a
// late tick does not stretch a window, it only closes it late.

export interface WindowSummary {
  readonly calls: number;
  readonly errors: number;
  /** Average response time in ms, 0 when there were no calls. */
  readonly avg_rt_ms: number;
  /** errors / calls, 0 when there were no calls. */
  readonly error_ratio: number;
}

export class WindowStats {
  readonly windowMs: number;
  /** Start of the current window (clock ms). */
  start: number;
  calls = 0;
  errors = 0;
  rtSum = 0;
  lastCalls = 0;
  lastErrors = 0;
  lastRtSum = 0;

  constructor(windowMs: number, now: number) {
    this.windowMs = windowMs;
    this.start = now;
  }

  add(latencyMs: number, isError: boolean): void {
    this.calls++;
    this.rtSum += latencyMs;
    if (isError) this.errors++;
  }

  /** How many whole windows have ended by `now` (0 while the current one is still open). */
  elapsed(now: number): number {
    const age = now - this.start;
    return age < this.windowMs ? 0 : Math.floor(age / this.windowMs);
  }

  /** Closes `windows` windows: the current one becomes the last, unless empty ones followed it. */
  roll(windows: number): void {
    if (windows <= 0) return;
    if (windows === 1) {
      this.lastCalls = this.calls;
      this.lastErrors = this.errors;
      this.lastRtSum = this.rtSum;
    } else {
      this.lastCalls = 0;
      this.lastErrors = 0;
      this.lastRtSum = 0;
    }
    this.calls = 0;
    this.errors = 0;
    this.rtSum = 0;
    this.start += windows * this.windowMs;
  }

  /** A fresh window from `now`, history forgotten (after a state change). */
  reset(now: number): void {
    this.calls = this.errors = this.rtSum = 0;
    this.lastCalls = this.lastErrors = this.lastRtSum = 0;
    this.start = now;
  }

  current(): WindowSummary {
    return summary(this.calls, this.errors, this.rtSum);
  }

  last(): WindowSummary {
    return summary(this.lastCalls, this.lastErrors, this.lastRtSum);
  }
}

function summary(calls: number, errors: number, rtSum: number): WindowSummary {
  return {
    calls,
    errors,
    avg_rt_ms: calls === 0 ? 0 : Math.round((rtSum / calls) * 1000) / 1000,
    error_ratio: calls === 0 ? 0 : Math.round((errors / calls) * 10000) / 10000,
  };
}
