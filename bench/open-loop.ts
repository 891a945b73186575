// Open-loop load: arrivals on a fixed schedule (`rate` per second), each sent at its time whether
// or not earlier ones have been answered, and its latency measured from the scheduled time. A
// closed loop (N connections each waiting for its answer) slows down with the server and so
// hides queueing; here a server that falls behind shows it in the tail. Runs in the load
// generator's process; requests go out over an undici Pool of `connections` keep-alive sockets
// (arrivals beyond that wait in the pool's queue, and that wait counts).
import { Pool, type Dispatcher } from 'undici';

export interface OpenLoopJob {
  readonly type: 'open';
  readonly url: string;
  readonly rate: number;
  readonly durationS: number;
  readonly connections: number;
  readonly paths: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
}

export interface OpenLoopResult {
  readonly type: 'open-result';
  readonly scheduled: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Arrivals sent more than LATE_MS after their scheduled time (the generator itself lagging). */
  readonly lateSends: number;
  readonly durationS: number;
  /** Latency from scheduled send time to the end of the answer, ms, over 2xx answers. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

/**
 * Node timers fire at 1 ms granularity, so on an idle machine an arrival may leave up to ~1.1 ms
 * after its time (every variant alike, and inside the measured latency); later than this means
 * the generator could not keep its schedule.
 */
export const LATE_MS = 2;

/** Answers outstanding after the schedule ends are waited for this long, then counted as errors. */
const DRAIN_MS = 10_000;

class Arrival implements Dispatcher.DispatchHandler {
  readonly run: OpenLoop;
  readonly scheduledAt: number;
  status = 0;
  constructor(run: OpenLoop, scheduledAt: number) {
    this.run = run;
    this.scheduledAt = scheduledAt;
  }
  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }
  onResponseData(): void {}
  onResponseEnd(): void {
    this.run.answered(this, performance.now() - this.scheduledAt);
  }
  onResponseError(): void {
    this.run.failed();
  }
}

class OpenLoop {
  private readonly job: OpenLoopJob;
  private readonly pool: Pool;
  private readonly total: number;
  private readonly intervalMs: number;
  private readonly latencies: Float64Array;
  private readonly headers: string[];
  private count = 0;
  private sent = 0;
  private outstanding = 0;
  private non2xx = 0;
  private errors = 0;
  private lateSends = 0;
  private start = 0;
  private finish: (() => void) | null = null;

  constructor(job: OpenLoopJob) {
    this.job = job;
    this.pool = new Pool(job.url, { connections: job.connections, pipelining: 1, keepAliveTimeout: 60_000 });
    this.total = Math.round(job.rate * job.durationS);
    this.intervalMs = 1000 / job.rate;
    this.latencies = new Float64Array(this.total);
    this.headers = Object.entries(job.headers).flat();
  }

  async run(): Promise<OpenLoopResult> {
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    this.start = performance.now();
    this.tick();
    await done;
    // Still unanswered after the drain: lost.
    this.errors += this.outstanding;
    const elapsed = (performance.now() - this.start) / 1000;
    await this.pool.close().catch(() => undefined);
    const sorted = this.latencies.subarray(0, this.count).sort();
    return {
      type: 'open-result',
      scheduled: this.total,
      ok2xx: this.count,
      non2xx: this.non2xx,
      errors: this.errors,
      lateSends: this.lateSends,
      durationS: elapsed,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      p999Ms: percentile(sorted, 99.9),
      maxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1],
    };
  }

  /** Sends every arrival whose time has come, then sleeps until the next one. */
  private tick(): void {
    const now = performance.now();
    const paths = this.job.paths;
    while (this.sent < this.total) {
      const at = this.start + this.sent * this.intervalMs;
      if (at > now) break;
      if (now - at > LATE_MS) this.lateSends++;
      const path = paths[this.sent % paths.length];
      this.sent++;
      this.outstanding++;
      this.pool.dispatch({ path, method: 'GET', headers: this.headers }, new Arrival(this, at));
    }
    if (this.sent < this.total) {
      const next = this.start + this.sent * this.intervalMs;
      setTimeout(() => this.tick(), Math.max(0, next - performance.now()));
    } else {
      const timer = setTimeout(() => this.finish?.(), DRAIN_MS);
      timer.unref();
      if (this.outstanding === 0) this.finish?.();
    }
  }

  answered(arrival: Arrival, ms: number): void {
    if (arrival.status >= 200 && arrival.status < 300) this.latencies[this.count++] = ms;
    else this.non2xx++;
    this.settled();
  }

  failed(): void {
    this.errors++;
    this.settled();
  }

  private settled(): void {
    this.outstanding--;
    if (this.outstanding === 0 && this.sent === this.total) this.finish?.();
  }
}

export function runOpenLoop(job: OpenLoopJob): Promise<OpenLoopResult> {
  return new OpenLoop(job).run();
}
