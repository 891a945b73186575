// The load generator, in its own process so its CPU never counts against a proxy. Driven over
// IPC by run.ts: each {type:'run'} message runs one autocannon pass and answers {type:'result'}.
// Request buffers are prebuilt (static requests), so the generator itself stays cheap; a job
// with a `mix` (many accounts, many ids) builds each request as it goes. {type:'open'} runs one
// open-loop pass (bench/open-loop.ts) and answers {type:'open-result'}.
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { runOpenLoop, type OpenLoopJob } from './open-loop.ts';
import { memberPaths, mixHeaders, type RequestMix } from './request-set.ts';

export interface LoadJob {
  readonly type: 'run';
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly paths: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  /** Instead of `paths` and `headers`: walk `mix.ids` member ids and `mix.accounts` accounts. */
  readonly mix?: RequestMix;
}

export interface LoadResult {
  readonly type: 'result';
  /** Responses received, any status. */
  readonly responses: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly durationS: number;
  readonly rps: number;
  /** Latency of 2xx responses, milliseconds, to the microsecond. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly statusCodes: Readonly<Record<string, number>>;
}

interface AutocannonSummary {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statusCodeStats: Readonly<Record<string, { count: number }>>;
}
type Autocannon = (
  opts: Record<string, unknown>,
  cb: (err: Error | null, result: AutocannonSummary) => void,
) => EventEmitter;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

interface AutocannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
}

interface AutocannonClient {
  setRequests(requests: readonly (AutocannonRequest | { method: string; setupRequest: (req: AutocannonRequest) => AutocannonRequest })[]): void;
}

/** Where the mix walk stands: the next run goes on from there, so successive runs cover every id. */
let mixCursor = 0;

/** One request builder shared by all connections: each request takes the next id and the next account. */
function mixRequests(mix: RequestMix): { method: string; setupRequest: (req: AutocannonRequest) => AutocannonRequest }[] {
  const paths = memberPaths(mix.ids);
  const headers = mixHeaders(mix.accounts);
  const setupRequest = (req: AutocannonRequest): AutocannonRequest => {
    const i = mixCursor++;
    req.path = paths[i % paths.length];
    req.headers = headers[i % headers.length];
    return req;
  };
  return [{ method: 'GET', setupRequest }];
}

function run(job: LoadJob): Promise<LoadResult> {
  // Every connection walks the same id sequence from its own starting point, so concurrent
  // requests ask for different members (as real callers do) instead of the same one in lockstep.
  const stride = Math.max(1, Math.floor(job.paths.length / job.connections));
  let clientIndex = 0;
  const mixed = job.mix === undefined ? null : mixRequests(job.mix);
  const setupClient = (client: AutocannonClient): void => {
    if (mixed !== null) { client.setRequests(mixed); return; }
    const offset = (clientIndex++ * stride) % job.paths.length;
    const rotated = [...job.paths.slice(offset), ...job.paths.slice(0, offset)];
    client.setRequests(rotated.map((path) => ({ method: 'GET', path })));
  };
  let latencies = new Float64Array(1 << 18);
  let count = 0;
  let responses = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: job.url,
      connections: job.connections,
      duration: job.durationS,
      pipelining: 1,
      timeout: 10,
      headers: job.headers,
      requests: job.paths.map((path) => ({ method: 'GET', path })),
      setupClient,
    }, (err, summary) => {
      if (err !== null) { reject(err); return; }
      const sorted = latencies.subarray(0, count).sort();
      const statusCodes: Record<string, number> = {};
      for (const code in summary.statusCodeStats) statusCodes[code] = summary.statusCodeStats[code].count;
      resolve({
        type: 'result',
        responses,
        ok2xx: count,
        non2xx: summary.non2xx,
        errors: summary.errors,
        timeouts: summary.timeouts,
        durationS: summary.duration,
        rps: responses / summary.duration,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        statusCodes,
      });
    });
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      responses++;
      if (statusCode < 200 || statusCode > 299) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTime;
    });
  });
}

process.on('message', (message: LoadJob | OpenLoopJob) => {
  const pass = message.type === 'run' ? run(message) : message.type === 'open' ? runOpenLoop(message) : null;
  if (pass === null) return;
  pass.then(
    (result) => process.send?.(result),
    (err: unknown) => process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
