// Demo traffic: streams of requests at a steady rate through the sidecar, each as one caller
// account, bounded in time (the phase's duration) and in concurrency. Every answer is tallied by
// what it says: admitted (which cluster served it) or rejected (x-sluice-reason).
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { CLUSTER_HEADER } from './member-service.ts';
import { bump, Tally } from './tally.ts';

export interface DemoRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
}

export interface StreamSpec {
  /** Row name in the view; usually the account id. */
  readonly label: string;
  readonly account: string;
  /** x-client-app: the calling service's name, as the caller ledger sees it. */
  readonly app?: string;
  /** Requests per second. */
  readonly rate: number;
  /** The n-th request of the stream. */
  request(n: number): DemoRequest;
}

/** The demo accounts' secret: see rules/callers.yaml. */
export function demoKey(account: string): string {
  return `demo-key-${account}`;
}

const TICK_MS = 2;
const REQUEST_TIMEOUT_MS = 5000;
const POINTS_BODY = JSON.stringify({ points: 100, reason: 'hotel checkout' });

export class TrafficRunner {
  private readonly pool: Pool;
  private readonly maxInFlight: number;
  private readonly pending = new Set<Promise<void>>();

  constructor(origin: string, options: { connections?: number; maxInFlightPerStream?: number } = {}) {
    this.pool = new Pool(origin, {
      connections: options.connections ?? 128,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    this.maxInFlight = options.maxInFlightPerStream ?? 128;
  }

  /**
   * Sends each stream at its rate for `durationMs` (or until `signal` aborts), then waits up to
   * `drainMs` for answers still on their way. A stream at its concurrency bound skips the
   * requests it cannot send rather than queueing them, so a slow upstream never piles up load.
   */
  async run(
    streams: readonly StreamSpec[],
    tallies: ReadonlyMap<string, Tally>,
    durationMs: number,
    options: { signal?: AbortSignal; drainMs?: number; onTick?: (elapsedMs: number) => void } = {},
  ): Promise<void> {
    const started = performance.now();
    const due = new Array<number>(streams.length).fill(0);
    for (;;) {
      const elapsed = performance.now() - started;
      if (elapsed >= durationMs || options.signal?.aborted === true) break;
      for (let i = 0; i < streams.length; i++) {
        const stream = streams[i];
        const tally = tallies.get(stream.label);
        if (tally === undefined) continue;
        const target = Math.floor((stream.rate * elapsed) / 1000);
        while (due[i] < target) {
          const n = due[i]++;
          if (tally.inFlight >= this.maxInFlight) continue;
          this.send(stream, n, tally);
        }
      }
      options.onTick?.(elapsed);
      await sleep(TICK_MS);
    }
    await this.drain(options.drainMs ?? 3000);
  }

  private send(stream: StreamSpec, n: number, tally: Tally): void {
    const { method, path } = stream.request(n);
    tally.sent++;
    tally.inFlight++;
    const headers: Record<string, string> = {
      'x-caller-account': stream.account,
      'x-caller-key': demoKey(stream.account),
      'x-client-app': stream.app ?? stream.label,
    };
    if (method === 'POST') headers['content-type'] = 'application/json';
    const done = this.pool
      .request({ method, path, headers, body: method === 'POST' ? POINTS_BODY : undefined })
      .then(async ({ statusCode, headers: answer, body }) => {
        await body.dump();
        const reason = answer['x-sluice-reason'];
        const cluster = answer[CLUSTER_HEADER];
        if (typeof reason === 'string') bump(tally.rejected, reason);
        else if (typeof cluster === 'string' && statusCode < 400) bump(tally.admitted, cluster);
        else bump(tally.other, `HTTP ${statusCode}`);
      })
      .catch((error: unknown) => {
        const code = (error as { code?: unknown }).code;
        bump(tally.other, typeof code === 'string' ? code : error instanceof Error ? error.name : 'error');
      })
      .finally(() => {
        tally.inFlight--;
        this.pending.delete(done);
      });
    this.pending.add(done);
  }

  private async drain(deadlineMs: number): Promise<void> {
    if (this.pending.size === 0) return;
    const timer = sleep(deadlineMs, undefined, { ref: false });
    await Promise.race([Promise.allSettled([...this.pending]), timer]);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
