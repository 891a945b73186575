// Injected time source for limiter and breaker logic, so unit tests are exact and instant.

export interface Clock {
  /** Milliseconds, monotonic, fractional. */
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
