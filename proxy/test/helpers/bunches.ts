// Callers that fire together: every `everyMs`, `size` requests leave at the same instant (one per
// keep-alive connection, spread over the targets round robin), as callers on a shared timer or
// answering one batch of responses do; then they wait for the next tick. A bunch that is not
// answered by the next tick delays the following one (no catch-up: a slow run just sends less).
// Bounded in time and in count.
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import type { LoadRequest } from './load.ts';

export interface BunchOptions {
  /** Requests fired together in each bunch. */
  readonly size: number;
  /** Time between the starts of two bunches, ms. */
  readonly everyMs: number;
  readonly durationMs: number;
  /** Hard bound on the requests sent. Default 50 000. */
  readonly maxRequests?: number;
  readonly request: LoadRequest;
}

export interface BunchTally {
  readonly sent: number;
  readonly bunches: number;
  readonly byStatus: Record<number, number>;
  /** Reasons (x-sluice-reason) of refused requests, counted. */
  readonly reasons: Record<string, number>;
  readonly failures: readonly string[];
  /** From the first bunch to the last, ms. */
  readonly spanMs: number;
  /** sent / span. */
  readonly requestsPerSecond: number;
  /** Bunches not answered by the next tick (that tick then waited for them). */
  readonly late: number;
}

/** Fires bunches at `urls` (each request of a bunch to the next target in turn). */
export async function runBunches(urls: readonly string[], options: BunchOptions): Promise<BunchTally> {
  const perTarget = Math.ceil(options.size / urls.length);
  const pools = urls.map((url) => new Pool(url, { connections: perTarget, pipelining: 1 }));
  const maxRequests = options.maxRequests ?? 50_000;
  const byStatus: Record<number, number> = {};
  const reasons: Record<string, number> = {};
  const failures: string[] = [];
  const started = performance.now();
  const deadline = started + options.durationMs;
  let sent = 0;
  let bunches = 0;
  let late = 0;
  let last = started;
  const one = async (pool: Pool): Promise<void> => {
    try {
      const res = await pool.request({ path: options.request.path, method: 'GET', headers: options.request.headers });
      await res.body.text();
      byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
      const reason = res.headers['x-sluice-reason'];
      if (typeof reason === 'string') reasons[reason] = (reasons[reason] ?? 0) + 1;
    } catch (error) {
      failures.push(String(error));
    }
  };
  try {
    for (let tick = started; ; ) {
      const now = performance.now();
      if (tick > now) await delay(tick - now);
      const at = performance.now();
      if (at >= deadline || sent + options.size > maxRequests) break;
      last = at;
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < options.size; i++) inFlight.push(one(pools[i % pools.length]));
      sent += options.size;
      bunches++;
      await Promise.all(inFlight);
      tick += options.everyMs;
      const answered = performance.now();
      if (answered > tick) {
        late++;
        tick = answered;
      }
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  const spanMs = last - started;
  return {
    sent,
    bunches,
    byStatus,
    reasons,
    failures,
    spanMs: Math.round(spanMs),
    requestsPerSecond: spanMs > 0 ? Math.round((sent * 1000) / (spanMs + options.everyMs)) : 0,
    late,
  };
}
