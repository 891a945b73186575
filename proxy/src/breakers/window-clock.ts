// One ticker for every breaker's statistics window: window rotation, open → half-open and lost
// probes are driven from here, so a thousand breakers cost one unref'd interval, not a thousand
// timers. Time comes from the injected Clock; tests leave the timer off and call tick() themselves.
import type { Clock } from '../clock.ts';

/** Something that rotates windows or changes state with time. */
export interface WindowSubscriber {
  onTick(now: number): void;
}

export interface WindowClockOptions {
  /** How often the interval fires; window boundaries are honoured to within this. Default 50 ms. */
  readonly resolutionMs?: number;
  /** Run the interval (default true). Off in unit tests, which drive tick() with a ManualClock. */
  readonly timer?: boolean;
}

export class WindowClock {
  readonly clock: Clock;
  readonly resolutionMs: number;
  private readonly useTimer: boolean;
  private subscribers: WindowSubscriber[] = [];
  private interval: NodeJS.Timeout | null = null;

  constructor(clock: Clock, options: WindowClockOptions = {}) {
    this.clock = clock;
    this.resolutionMs = options.resolutionMs ?? 50;
    this.useTimer = options.timer !== false;
  }

  subscribe(subscriber: WindowSubscriber): void {
    if (this.subscribers.includes(subscriber)) return;
    this.subscribers.push(subscriber);
    if (this.useTimer && this.interval === null) {
      this.interval = setInterval(() => this.tick(), this.resolutionMs);
      this.interval.unref();
    }
  }

  unsubscribe(subscriber: WindowSubscriber): void {
    const at = this.subscribers.indexOf(subscriber);
    if (at !== -1) this.subscribers.splice(at, 1);
    if (this.subscribers.length === 0) this.stop();
  }

  /** Lets every subscriber catch up with the clock. */
  tick(): void {
    const now = this.clock.now();
    const subscribers = this.subscribers;
    for (let i = 0; i < subscribers.length; i++) subscribers[i].onTick(now);
  }

  get size(): number {
    return this.subscribers.length;
  }

  /** Called by the state registry when no rules need the clock any more. */
  dispose(): void {
    this.subscribers = [];
    this.stop();
  }

  private stop(): void {
    if (this.interval !== null) clearInterval(this.interval);
    this.interval = null;
  }
}
