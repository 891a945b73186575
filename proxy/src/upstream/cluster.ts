// An upstream cluster (SPEC §3 Routing, §10): one connection pool per endpoint, balanced round-robin
// or least-request across the endpoints in rotation; passive ejection of endpoints that refuse
// connections; optional active health checks and retries with a budget.
//
// Panic mode (as Envoy's): when the health checks fail on every endpoint, health is ignored and
// requests spread over all of them; a request is never refused for want of a healthy endpoint.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../clock.ts';
import type { ClusterRules } from '../rules/types.ts';
import { createBalancer, type Balancer } from './balancer.ts';
import { DEFAULT_EJECTION, EndpointPool, type EjectionPolicy } from './endpoint-pool.ts';
import { ForwardExchange, type EndpointSource, type ForwardDone, type ForwardInfo } from './forward-exchange.ts';
import { HealthChecker, type LastCheck } from './health-checker.ts';
import { RetryPolicy, UNCOUNTED, type RetryCounters } from './retry-policy.ts';

export interface UpstreamClusterOptions {
  readonly clock?: Clock;
  readonly ejection?: EjectionPolicy;
  /** sluice_retries_total children of this cluster. */
  readonly retryCounters?: RetryCounters;
  /** Called when an endpoint enters or leaves rotation by its health checks. */
  readonly onHealthChange?: (cluster: string, endpoint: string, healthy: boolean) => void;
  /** False: do not start the health checks (unit tests drive them). Default true. */
  readonly startHealthChecks?: boolean;
}

export interface EndpointDescription {
  readonly url: string;
  /** Active health verdict (true when no health check is configured). */
  readonly healthy: boolean;
  readonly inFlight: number;
  readonly ejected: boolean;
  /** Wall-clock time the ejection ends, ISO 8601; null when in rotation. */
  readonly ejectedUntil: string | null;
  /** Ejections since the endpoint last answered. */
  readonly ejections: number;
  readonly lastCheck: LastCheck | null;
  readonly connected: number;
  readonly running: number;
  readonly pending: number;
}

export interface ClusterDescription {
  readonly name: string;
  readonly timeoutMs: number;
  readonly connections: number;
  readonly balance: string;
  /** Every endpoint failed its health checks: balancing over all of them. */
  readonly panic: boolean;
  readonly healthCheck: boolean;
  readonly retry: { readonly attempts: number; readonly budget: number; readonly windowRequests: number; readonly windowRetries: number } | null;
  readonly endpoints: readonly EndpointDescription[];
}

export class UpstreamCluster implements EndpointSource {
  readonly name: string;
  readonly rules: ClusterRules;
  readonly endpoints: readonly EndpointPool[];
  readonly endpointCount: number;
  readonly retry: RetryPolicy | null;
  readonly health: HealthChecker | null;
  private readonly clock: Clock;
  private readonly balancer: Balancer;
  private healthyCount: number;

  constructor(rules: ClusterRules, options: UpstreamClusterOptions = {}) {
    if (rules.endpoints.length === 0) throw new Error(`cluster ${rules.name} has no endpoints`);
    this.name = rules.name;
    this.rules = rules;
    this.clock = options.clock ?? systemClock;
    const ejection = options.ejection ?? DEFAULT_EJECTION;
    const poolOptions = { connections: rules.connections, connectTimeoutMs: rules.timeoutMs };
    this.endpoints = rules.endpoints.map((url) => new EndpointPool(url, poolOptions, this.clock, ejection));
    this.endpointCount = this.endpoints.length;
    this.balancer = createBalancer(rules.balance);
    this.retry = rules.retry === null ? null : new RetryPolicy(rules.retry, this.clock, options.retryCounters ?? UNCOUNTED);
    this.healthyCount = this.endpointCount;
    const onHealthChange = options.onHealthChange;
    this.health =
      rules.healthCheck === null
        ? null
        : new HealthChecker(this.endpoints, rules.healthCheck, (endpoint, healthy) => {
            this.healthyCount += healthy ? 1 : -1;
            onHealthChange?.(this.name, endpoint.url, healthy);
          });
    if (options.startHealthChecks !== false) this.health?.start();
  }

  /**
   * Forwards an admitted request and streams the answer back. `done` runs exactly once, when the
   * response is complete, has failed (502/504 answered or the connection cut), or the client left.
   * `startedAt`: now (performance.now()), when the caller has just read the clock.
   */
  forward<I extends ForwardInfo>(req: IncomingMessage, res: ServerResponse, info: I, done: ForwardDone<I>, startedAt = performance.now()): void {
    const exchange = new ForwardExchange(req, res, info, this.rules.timeoutMs, this, done, startedAt);
    if (this.retry !== null) this.retry.budget.request();
    if (exchange.buffering) exchange.bufferBody(this.pick());
    else exchange.send(this.pick());
  }

  /** True while every endpoint has failed its health checks. */
  get panic(): boolean {
    return this.healthyCount === 0;
  }

  /**
   * The next endpoint by the balancer among those in rotation. When every one is ejected, the
   * one whose ejection ends first: a request is never refused without a try.
   */
  pick(): EndpointPool {
    const endpoints = this.endpoints;
    if (this.endpointCount === 1) return endpoints[0];
    const panic = this.healthyCount === 0;
    const chosen = this.balancer.pick(endpoints, this.clock.now(), panic, null);
    if (chosen !== null) return chosen;
    let soonest: EndpointPool | null = null;
    for (let i = 0; i < this.endpointCount; i++) {
      const endpoint = endpoints[i];
      if (!panic && !endpoint.healthy) continue;
      if (soonest === null || endpoint.ejectedUntil < soonest.ejectedUntil) soonest = endpoint;
    }
    return soonest ?? endpoints[0];
  }

  alternativeTo(failed: EndpointPool): EndpointPool | null {
    if (this.endpointCount === 1) return null;
    return this.balancer.pick(this.endpoints, this.clock.now(), this.healthyCount === 0, failed);
  }

  /** True when `rules` would build the same cluster, so a reload can keep this one and its pools. */
  matches(rules: ClusterRules): boolean {
    return clusterIdentity(this.rules) === clusterIdentity(rules);
  }

  describe(): ClusterDescription {
    const now = this.clock.now();
    const wallNow = Date.now();
    const health = this.health;
    const retry = this.retry;
    const window = retry?.budget.window();
    return {
      name: this.name,
      timeoutMs: this.rules.timeoutMs,
      connections: this.rules.connections,
      balance: this.rules.balance,
      panic: this.panic,
      healthCheck: health !== null,
      retry:
        retry === null || window === undefined
          ? null
          : { attempts: retry.attempts, budget: retry.budget.share, windowRequests: window.requests, windowRetries: window.retries },
      endpoints: this.endpoints.map((endpoint) => {
        const ejected = endpoint.isEjected(now);
        const stats = endpoint.pool.stats;
        return {
          url: endpoint.url,
          healthy: endpoint.healthy,
          inFlight: endpoint.inFlight,
          ejected,
          ejectedUntil: ejected ? new Date(wallNow + (endpoint.ejectedUntil - now)).toISOString() : null,
          ejections: endpoint.ejections,
          lastCheck: health?.of(endpoint)?.last ?? null,
          connected: stats.connected,
          running: stats.running,
          pending: stats.pending,
        };
      }),
    };
  }

  /** Stops taking requests and waits for the ones in flight to finish (hot reload, drain). */
  async close(): Promise<void> {
    await this.health?.stop();
    await Promise.all(this.endpoints.map((endpoint) => endpoint.close()));
  }

  /** Aborts everything in flight and closes every connection now. */
  async destroy(): Promise<void> {
    await this.health?.stop();
    await Promise.all(this.endpoints.map((endpoint) => endpoint.destroy()));
  }
}

/** A string that changes whenever a cluster's definition does: the state registry's key. */
export function clusterIdentity(rules: ClusterRules): string {
  return `cluster:${rules.name}:${JSON.stringify([rules.endpoints, rules.timeoutMs, rules.connections, rules.balance, rules.healthCheck, rules.retry])}`;
}
