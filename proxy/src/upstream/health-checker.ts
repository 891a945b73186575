// Active health checks of one cluster (SPEC §10): every endpoint is asked `GET path` about once an
// interval, each on its own timer with jitter (a fleet of sidecars does not check in step), over
// its own one-connection client so a check never queues behind, or takes a connection from, the
// request path. `unhealthy` failures in a row take the endpoint out of rotation, `healthy` good
// answers in a row bring it back. An endpoint starts in rotation: a start or a reload does not
// wait for a first round of checks.
import { Client } from 'undici';
import type { HealthCheckRules } from '../rules/types.ts';
import type { EndpointPool } from './endpoint-pool.ts';

export interface LastCheck {
  /** Wall-clock time of the answer (or failure), ISO 8601. */
  readonly at: string;
  readonly ok: boolean;
  /** The status answered, or the failure: 'timeout', 'connect', ... */
  readonly result: string;
  readonly ms: number;
}

/** One endpoint's check state. */
export class EndpointHealth {
  readonly endpoint: EndpointPool;
  failures: number;
  successes: number;
  last: LastCheck | null;
  timer: NodeJS.Timeout | null;
  readonly client: Client;

  constructor(endpoint: EndpointPool, timeoutMs: number) {
    this.endpoint = endpoint;
    this.failures = 0;
    this.successes = 0;
    this.last = null;
    this.timer = null;
    this.client = new Client(endpoint.origin, {
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      pipelining: 1,
      keepAliveTimeout: 4000,
    });
  }
}

/** Called when an endpoint enters or leaves rotation. */
export type HealthListener = (endpoint: EndpointPool, healthy: boolean) => void;

/** Share of the interval taken off at random: each period lies in [0.9, 1] × interval. */
const JITTER = 0.1;

export class HealthChecker {
  readonly rules: HealthCheckRules;
  readonly states: readonly EndpointHealth[];
  private readonly onChange: HealthListener;
  private readonly random: () => number;
  private stopped: boolean;

  constructor(endpoints: readonly EndpointPool[], rules: HealthCheckRules, onChange: HealthListener, random: () => number = Math.random) {
    this.rules = rules;
    this.states = endpoints.map((endpoint) => new EndpointHealth(endpoint, rules.timeoutMs));
    this.onChange = onChange;
    this.random = random;
    this.stopped = false;
  }

  start(): void {
    // The first check of each endpoint at a random point of the first interval.
    for (const state of this.states) this.schedule(state, this.random() * this.rules.intervalMs);
  }

  of(endpoint: EndpointPool): EndpointHealth | undefined {
    return this.states.find((state) => state.endpoint === endpoint);
  }

  private schedule(state: EndpointHealth, delayMs: number): void {
    if (this.stopped) return;
    state.timer = setTimeout(() => void this.check(state), Math.max(0, delayMs));
    state.timer.unref();
  }

  private async check(state: EndpointHealth): Promise<void> {
    const started = performance.now();
    const rules = this.rules;
    let ok = false;
    let result: string;
    try {
      const answer = await state.client.request({
        method: 'GET',
        path: state.endpoint.pathPrefix + rules.path,
        headers: { 'user-agent': 'sluice-health-check' },
        signal: AbortSignal.timeout(rules.timeoutMs),
      });
      await answer.body.dump();
      ok = answer.statusCode >= 200 && answer.statusCode < 300;
      result = String(answer.statusCode);
    } catch (error) {
      result = failureName(error);
    }
    if (this.stopped) return;
    const ms = performance.now() - started;
    state.last = { at: new Date().toISOString(), ok, result, ms: Math.round(ms) };
    this.record(state, ok);
    // Periods run from check start to check start, so a slow check does not stretch them.
    const period = rules.intervalMs * (1 - JITTER * this.random());
    this.schedule(state, period - ms);
  }

  private record(state: EndpointHealth, ok: boolean): void {
    const endpoint = state.endpoint;
    if (ok) {
      state.failures = 0;
      state.successes++;
      if (!endpoint.healthy && state.successes >= this.rules.healthy) {
        endpoint.healthy = true;
        this.onChange(endpoint, true);
      }
    } else {
      state.successes = 0;
      state.failures++;
      if (endpoint.healthy && state.failures >= this.rules.unhealthy) {
        endpoint.healthy = false;
        this.onChange(endpoint, false);
      }
    }
  }

  /** Stops every timer and closes the check connections (the cluster went away). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.states) if (state.timer !== null) clearTimeout(state.timer);
    await Promise.all(this.states.map((state) => state.client.destroy().catch(() => undefined)));
  }
}

function failureName(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return 'connect';
    if (code !== undefined) return code;
    return error.message;
  }
  return String(error);
}
