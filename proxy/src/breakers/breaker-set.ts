// The breakers of one policy, arranged for the request path: per cluster a pre-built array to fan
// a finished exchange out to, and the half-open probes each request holds, so that a probe's
// outcome reaches its breaker however slowly the answer comes.
import type { RequestContext } from '../request-context.ts';
import type { Breaker, BreakerDescription } from './breaker.ts';
import type { WindowClock } from './window-clock.ts';

interface ProbeTicket {
  readonly breaker: Breaker;
  readonly token: number;
  readonly next: ProbeTicket | null;
}

/**
 * Probes held by in-flight requests. Module-wide rather than per set, so a request that started
 * under the previous policy still settles its probe after a reload. `held` lets the common case
 * (no probe anywhere) skip the lookup.
 */
const tickets = new WeakMap<RequestContext, ProbeTicket>();
let held = 0;

/** Records that `ctx` carries a half-open probe of `breaker`. */
export function holdProbe(ctx: RequestContext, breaker: Breaker, token: number): void {
  const next = tickets.get(ctx) ?? null;
  if (next === null) held++;
  tickets.set(ctx, { breaker, token, next });
}

function takeTickets(ctx: RequestContext): ProbeTicket | null {
  if (held === 0) return null;
  const ticket = tickets.get(ctx);
  if (ticket === undefined) return null;
  tickets.delete(ctx);
  held--;
  return ticket;
}

const EMPTY: readonly Breaker[] = [];

export class BreakerSet {
  /** Every breaker, in rule order. */
  readonly all: readonly Breaker[];
  /** The ticker rotating their windows; null when there are no degrade rules. */
  readonly windowClock: WindowClock | null;
  private readonly byCluster: ReadonlyMap<string, readonly Breaker[]>;
  private readonly byName: ReadonlyMap<string, Breaker>;

  constructor(breakers: readonly Breaker[], windowClock: WindowClock | null) {
    this.all = breakers;
    this.windowClock = windowClock;
    const byCluster = new Map<string, Breaker[]>();
    const byName = new Map<string, Breaker>();
    for (const breaker of breakers) {
      let list = byCluster.get(breaker.cluster);
      if (list === undefined) byCluster.set(breaker.cluster, (list = []));
      list.push(breaker);
      byName.set(breaker.name, breaker);
    }
    this.byCluster = byCluster;
    this.byName = byName;
  }

  /** Breakers (real and shadow) watching `cluster`. */
  of(cluster: string): readonly Breaker[] {
    return this.byCluster.get(cluster) ?? EMPTY;
  }

  get(name: string): Breaker | undefined {
    return this.byName.get(name);
  }

  /** One finished exchange with `cluster`: 5xx, timeouts and connection failures are errors. */
  record(cluster: string, latencyMs: number, isError: boolean): void {
    const list = this.byCluster.get(cluster);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) list[i].record(latencyMs, isError);
  }

  /**
   * The forwarder's one call per forwarded request, when its exchange ends (answer, timeout or
   * connection failure): records it on ctx.cluster and settles the probes the request carried.
   */
  settle(ctx: RequestContext, latencyMs: number, isError: boolean): void {
    this.record(ctx.cluster, latencyMs, isError);
    for (let t = takeTickets(ctx); t !== null; t = t.next) t.breaker.settleProbe(t.token, latencyMs, isError);
  }

  /** For a request admitted by the breaker guard but never sent: its probes go back. */
  release(ctx: RequestContext): void {
    for (let t = takeTickets(ctx); t !== null; t = t.next) t.breaker.releaseProbe(t.token);
  }

  /** Whether the request carries a half-open probe (its outcome must be settled, even if slow). */
  isProbe(ctx: RequestContext): boolean {
    return held !== 0 && tickets.has(ctx);
  }

  /** For /admin/breakers. */
  describe(): BreakerDescription[] {
    return this.all.map((breaker) => breaker.describe());
  }
}
