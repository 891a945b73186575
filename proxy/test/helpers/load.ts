// Load for end-to-end tests: an undici Pool with a bounded number of requests in flight, for a
// bounded time and count. Saturating (each connection sends its next request as soon as the last
// one is answered) or paced (at most `ratePerSecond` starts per second, and no catch-up burst
// after the sender was held up: a stalled sender just sends less).
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';

export interface LoadRequest {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
}

export interface Answer {
  /** Index of the request, in start order. */
  readonly index: number;
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** performance.now() when the request was sent and when its answer was complete. */
  readonly sentAt: number;
  readonly answeredAt: number;
}

export interface LoadOptions {
  /** Requests in flight at most (and connections). */
  readonly connections: number;
  /** No request is started after this long. */
  readonly durationMs: number;
  /** Hard bound on the requests started. Default 50 000. */
  readonly maxRequests?: number;
  /** Paced: at most this many starts per second. Absent: saturating. */
  readonly ratePerSecond?: number;
  readonly request: LoadRequest | ((index: number) => LoadRequest);
  /** Each answer, as it completes. */
  readonly onAnswer?: (answer: Answer) => void;
}

export interface LoadTally {
  readonly sent: number;
  readonly answered: number;
  readonly byStatus: ReadonlyMap<number, number>;
  /** Transport failures (no answer at all). */
  readonly failures: readonly string[];
  /** From the first start to the last start, ms. */
  readonly spanMs: number;
  /** performance.now() of every answer, in order. */
  readonly answerTimes: readonly number[];
}

/**
 * How long, in all, answers stopped coming for more than `overMs` at a time (the part beyond
 * `overMs` of each such gap). With requests always in flight, a gap means a process was held off
 * the CPU: the limiter saw no requests then, and a bucket cannot carry more than its burst over
 * such a pause without breaking its own bound.
 */
export function starvedMs(tally: LoadTally, overMs: number): number {
  const times = tally.answerTimes;
  let starved = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (gap > overMs) starved += gap - overMs;
  }
  return starved;
}

export interface RunningLoad {
  /** The tally so far. */
  tally(): LoadTally;
  /** Stops starting requests; resolves when every one in flight is answered and the pool closed. */
  stop(): Promise<LoadTally>;
  /** Resolves when the load has run its course (or was stopped). */
  readonly done: Promise<LoadTally>;
}

export function startLoad(url: string, options: LoadOptions): RunningLoad {
  const pool = new Pool(url, { connections: options.connections, pipelining: 1 });
  const maxRequests = options.maxRequests ?? 50_000;
  const byStatus = new Map<number, number>();
  const failures: string[] = [];
  const answerTimes: number[] = [];
  const interval = options.ratePerSecond === undefined ? 0 : 1000 / options.ratePerSecond;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  let running = true;
  let sent = 0;
  let answered = 0;
  let firstSent = -1;
  let lastSent = -1;
  let nextSlot = startedAt;

  const tally = (): LoadTally => ({
    sent,
    answered,
    byStatus: new Map(byStatus),
    failures: [...failures],
    spanMs: firstSent < 0 ? 0 : lastSent - firstSent,
    answerTimes: [...answerTimes],
  });

  const worker = async (): Promise<void> => {
    for (;;) {
      if (interval > 0) {
        const now = performance.now();
        const slot = Math.max(nextSlot, now);
        nextSlot = slot + interval;
        if (slot > now) await delay(slot - now);
      }
      const now = performance.now();
      if (!running || now >= deadline || sent >= maxRequests) return;
      const index = sent++;
      if (firstSent < 0) firstSent = now;
      lastSent = now;
      const spec = typeof options.request === 'function' ? options.request(index) : options.request;
      try {
        const res = await pool.request({ path: spec.path, method: (spec.method ?? 'GET') as 'GET', headers: spec.headers });
        const body = await res.body.text();
        answerTimes.push(performance.now());
        answered++;
        byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
        options.onAnswer?.({ index, status: res.statusCode, headers: res.headers, body, sentAt: now, answeredAt: performance.now() });
      } catch (error) {
        failures.push(String(error));
      }
    }
  };

  const done = Promise.all(Array.from({ length: options.connections }, worker)).then(async () => {
    running = false;
    await pool.close();
    return tally();
  });
  return {
    tally,
    async stop() {
      running = false;
      return done;
    },
    done,
  };
}

export function runLoad(url: string, options: LoadOptions): Promise<LoadTally> {
  return startLoad(url, options).done;
}

/** One plain request, answered with status, headers and body. */
export async function send(
  url: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Headers; body: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${url}${path}`, { method, headers });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
}
