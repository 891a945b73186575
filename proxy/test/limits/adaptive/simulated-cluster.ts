// A member-service cluster of fixed capacity in simulated time: `capacity` requests served at
// once, each for `serviceMs`, a FIFO queue beyond that. Open-loop arrivals at `offeredPerSecond`
// ask the controller for admission; refused ones are dropped (answered 503 at once). Stepped a
// millisecond at a time on a ManualClock, so a minute of traffic runs in milliseconds, exactly.
import { ManualClock } from '../../../src/clock.ts';
import { AdaptiveController } from '../../../src/limits/adaptive/controller.ts';
import type { AdaptiveSettings } from '../../../src/limits/adaptive/window.ts';

export interface Phase {
  readonly seconds: number;
  readonly offeredPerSecond: number;
  readonly capacity: number;
  readonly serviceMs: number;
  /** Answer 5xx for this share of requests. */
  readonly errorShare?: number;
}

export interface PhaseFigures {
  readonly admitted: number;
  readonly refused: number;
  /** Completed per second. */
  readonly goodput: number;
  readonly meanLatencyMs: number;
  readonly p99LatencyMs: number;
  /** Limit at the end of the phase, and its lowest and highest during it. */
  readonly limit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly noloadMs: number;
}

export class SimulatedCluster {
  readonly clock = new ManualClock(0);
  readonly controller: AdaptiveController;
  /** Admission times of queued requests (FIFO), and finish times of those in service. */
  private queue: number[] = [];
  private serving: { admittedAt: number; doneAt: number; error: boolean }[] = [];
  private arrivalCredit = 0;
  private errorCredit = 0;
  /** Per simulated ms, a sampled limit trace: [ms, limit]. */
  readonly trace: [number, number][] = [];

  constructor(settings: AdaptiveSettings) {
    this.controller = new AdaptiveController(settings, this.clock);
  }

  run(phase: Phase): PhaseFigures {
    const c = this.controller;
    const latencies: number[] = [];
    let admitted = 0;
    let refused = 0;
    let minLimit = c.limit;
    let maxLimit = c.limit;
    const steps = phase.seconds * 1000;
    for (let step = 0; step < steps; step++) {
      this.clock.advance(1);
      const now = this.clock.now();
      // Completions first: they free capacity for the queue.
      const still: typeof this.serving = [];
      for (const job of this.serving) {
        if (job.doneAt <= now) {
          latencies.push(now - job.admittedAt);
          c.finish(now - job.admittedAt, job.error);
        } else still.push(job);
      }
      this.serving = still;
      this.arrivalCredit += phase.offeredPerSecond / 1000;
      while (this.arrivalCredit >= 1) {
        this.arrivalCredit--;
        if (c.admits(1)) {
          c.enter();
          admitted++;
          this.queue.push(now);
        } else {
          c.noteRefusal();
          refused++;
        }
      }
      while (this.serving.length < phase.capacity && this.queue.length > 0) {
        const admittedAt = this.queue.shift() as number;
        this.errorCredit += phase.errorShare ?? 0;
        const error = this.errorCredit >= 1;
        if (error) this.errorCredit--;
        this.serving.push({ admittedAt, doneAt: now + phase.serviceMs, error });
      }
      minLimit = Math.min(minLimit, c.limit);
      maxLimit = Math.max(maxLimit, c.limit);
      if (step % 100 === 0) this.trace.push([now, c.limit]);
    }
    latencies.sort((a, b) => a - b);
    const mean = latencies.reduce((sum, x) => sum + x, 0) / Math.max(1, latencies.length);
    return {
      admitted,
      refused,
      goodput: latencies.length / phase.seconds,
      meanLatencyMs: mean,
      p99LatencyMs: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      limit: c.limit,
      minLimit,
      maxLimit,
      noloadMs: c.noloadMs,
    };
  }

  /** Simulated ms from now until the limit reaches `atLeast` under `phase`, or null. */
  timeToReach(phase: Phase, atLeast: number): number | null {
    const start = this.clock.now();
    for (let s = 0; s < phase.seconds * 10; s++) {
      this.run({ ...phase, seconds: 0.1 });
      if (this.controller.limit >= atLeast) return this.clock.now() - start;
    }
    return null;
  }
}
