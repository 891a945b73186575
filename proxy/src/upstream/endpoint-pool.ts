// One upstream endpoint: its undici connection pool and its passive outlier state. An endpoint
// that refuses connections is ejected from balancing for a while, twice as long on each repeat,
// and back in full rotation after its first success.
import { Pool } from 'undici';
import type { Clock } from '../clock.ts';

export interface EjectionPolicy {
  /** First ejection, ms. */
  readonly baseMs: number;
  /** Longest ejection, ms. */
  readonly maxMs: number;
}

export const DEFAULT_EJECTION: EjectionPolicy = { baseMs: 2000, maxMs: 30_000 };

export interface EndpointPoolOptions {
  readonly connections: number;
  readonly connectTimeoutMs: number;
}

export class EndpointPool {
  /** As written in the rules. */
  readonly url: string;
  /** Scheme, host and port, e.g. `http://127.0.0.1:8081`. */
  readonly origin: string;
  /** Path the endpoint is mounted under, '' for the root: prepended to each request target. */
  readonly pathPrefix: string;
  readonly pool: Pool;
  /** Clock time until which the endpoint is out of rotation; 0 when in rotation. */
  ejectedUntil: number;
  /** Ejections since the last success. */
  ejections: number;
  /** Exchanges sent to this endpoint and not yet finished (least_request balancing). */
  inFlight: number;
  /** Active health check verdict; true while no check is configured or none has failed enough. */
  healthy: boolean;
  private readonly clock: Clock;
  private readonly policy: EjectionPolicy;

  constructor(url: string, options: EndpointPoolOptions, clock: Clock, policy: EjectionPolicy = DEFAULT_EJECTION) {
    const parsed = new URL(url);
    this.url = url;
    this.origin = parsed.origin;
    this.pathPrefix = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/+$/, '');
    this.pool = new Pool(this.origin, {
      connections: options.connections,
      pipelining: 1,
      connectTimeout: options.connectTimeoutMs,
      // Below the 5 s keep-alive of common HTTP servers, so we close idle sockets before they do.
      keepAliveTimeout: 4000,
    });
    this.ejectedUntil = 0;
    this.ejections = 0;
    this.inFlight = 0;
    this.healthy = true;
    this.clock = clock;
    this.policy = policy;
  }

  isEjected(now: number): boolean {
    return this.ejectedUntil > now;
  }

  /** In rotation: not passively ejected, and healthy unless the cluster is in panic. */
  isAvailable(now: number, panic: boolean): boolean {
    return (panic || this.healthy) && this.ejectedUntil <= now;
  }

  /** The endpoint refused a connection. Failures while already ejected do not lengthen it. */
  recordConnectFailure(): void {
    const now = this.clock.now();
    if (this.ejectedUntil > now) return;
    const span = Math.min(this.policy.baseMs * 2 ** this.ejections, this.policy.maxMs);
    this.ejections++;
    this.ejectedUntil = now + span;
  }

  /** The endpoint answered: it is healthy again. */
  recordSuccess(): void {
    if (this.ejections !== 0) {
      this.ejections = 0;
      this.ejectedUntil = 0;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
