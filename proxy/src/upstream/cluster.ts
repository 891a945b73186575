// An upstream cluster (SPEC §3 Routing): one connection pool per endpoint, round-robin across the
// endpoints in rotation, passive ejection of endpoints that refuse connections.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../clock.ts';
import type { ClusterRules } from '../rules/types.ts';
import { DEFAULT_EJECTION, EndpointPool, type EjectionPolicy } from './endpoint-pool.ts';
import { ForwardExchange, type EndpointSource, type ForwardDone, type ForwardInfo } from './forward-exchange.ts';

export interface UpstreamClusterOptions {
  readonly clock?: Clock;
  readonly ejection?: EjectionPolicy;
}

export interface EndpointDescription {
  readonly url: string;
  readonly ejected: boolean;
  /** Wall-clock time the ejection ends, ISO 8601; null when in rotation. */
  readonly ejectedUntil: string | null;
  /** Ejections since the endpoint last answered. */
  readonly ejections: number;
  readonly connected: number;
  readonly running: number;
  readonly pending: number;
}

export interface ClusterDescription {
  readonly name: string;
  readonly timeoutMs: number;
  readonly connections: number;
  readonly endpoints: readonly EndpointDescription[];
}

export class UpstreamCluster implements EndpointSource {
  readonly name: string;
  readonly rules: ClusterRules;
  readonly endpoints: readonly EndpointPool[];
  readonly endpointCount: number;
  private readonly clock: Clock;
  private cursor: number;

  constructor(rules: ClusterRules, options: UpstreamClusterOptions = {}) {
    if (rules.endpoints.length === 0) throw new Error(`cluster ${rules.name} has no endpoints`);
    this.name = rules.name;
    this.rules = rules;
    this.clock = options.clock ?? systemClock;
    const ejection = options.ejection ?? DEFAULT_EJECTION;
    const poolOptions = { connections: rules.connections, connectTimeoutMs: rules.timeoutMs };
    this.endpoints = rules.endpoints.map((url) => new EndpointPool(url, poolOptions, this.clock, ejection));
    this.endpointCount = this.endpoints.length;
    this.cursor = 0;
  }

  /**
   * Forwards an admitted request and streams the answer back. `done` runs exactly once, when the
   * response is complete, has failed (502/504 answered or the connection cut), or the client left.
   */
  forward<I extends ForwardInfo>(req: IncomingMessage, res: ServerResponse, info: I, done: ForwardDone<I>): void {
    new ForwardExchange(req, res, info, this.rules.timeoutMs, this, done).send(this.pick());
  }

  /**
   * The next endpoint in round-robin order among those in rotation. When every endpoint is
   * ejected, the one whose ejection ends first: a request is never refused without a try.
   */
  pick(): EndpointPool {
    const endpoints = this.endpoints;
    const count = this.endpointCount;
    if (count === 1) return endpoints[0];
    const now = this.clock.now();
    for (let i = 0; i < count; i++) {
      const endpoint = endpoints[this.cursor];
      this.cursor = this.cursor + 1 === count ? 0 : this.cursor + 1;
      if (!endpoint.isEjected(now)) return endpoint;
    }
    let soonest = endpoints[0];
    for (let i = 1; i < count; i++) if (endpoints[i].ejectedUntil < soonest.ejectedUntil) soonest = endpoints[i];
    return soonest;
  }

  alternativeTo(failed: EndpointPool): EndpointPool | null {
    if (this.endpointCount === 1) return null;
    const next = this.pick();
    return next === failed || next.isEjected(this.clock.now()) ? null : next;
  }

  /** True when `rules` would build the same cluster, so a reload can keep this one and its pools. */
  matches(rules: ClusterRules): boolean {
    const own = this.rules;
    return (
      own.name === rules.name &&
      own.timeoutMs === rules.timeoutMs &&
      own.connections === rules.connections &&
      own.endpoints.length === rules.endpoints.length &&
      own.endpoints.every((url, i) => url === rules.endpoints[i])
    );
  }

  describe(): ClusterDescription {
    const now = this.clock.now();
    const wallNow = Date.now();
    return {
      name: this.name,
      timeoutMs: this.rules.timeoutMs,
      connections: this.rules.connections,
      endpoints: this.endpoints.map((endpoint) => {
        const ejected = endpoint.isEjected(now);
        const stats = endpoint.pool.stats;
        return {
          url: endpoint.url,
          ejected,
          ejectedUntil: ejected ? new Date(wallNow + (endpoint.ejectedUntil - now)).toISOString() : null,
          ejections: endpoint.ejections,
          connected: stats.connected,
          running: stats.running,
          pending: stats.pending,
        };
      }),
    };
  }

  /** Stops taking requests and waits for the ones in flight to finish (hot reload, drain). */
  async close(): Promise<void> {
    await Promise.all(this.endpoints.map((endpoint) => endpoint.close()));
  }

  /** Aborts everything in flight and closes every connection now. */
  async destroy(): Promise<void> {
    await Promise.all(this.endpoints.map((endpoint) => endpoint.destroy()));
  }
}
