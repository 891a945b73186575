// One traffic class compiled once per policy: what the request path needs per class, hung on
// every compiled account of the class. The global cap, the breaker guard and the listener reach
// it through ctx.account instead of looking the class name (and then the cluster name) up in a
// map of their own on every request: per admitted request that is five hash lookups fewer
// (global-cap gate, breaker route, cluster, upstream-duration children, request-counter children
// by account): ~35 ns of lookups per request become ~1 ns of field reads (micro-benchmark; small
// beside the forwarding itself, but paid by every request). The maps stay as the fallback for a context with
// no compiled account (unit tests that build one by hand).
import type { HistogramSeries } from './hot-metrics.ts';
import type { Rules } from './rules/types.ts';
import type { UpstreamCluster } from './upstream/cluster.ts';

export class CompiledClass {
  readonly name: string;
  /**
   * Slots the compiler fills once, each by the part that owns it: the global cap's gate, the
   * breaker guard's route and the name of the cluster it normally routes to (after any switch),
   * that cluster's pools, sluice_upstream_duration_seconds children by cluster. Typed loosely here (`unknown` for the guards' private shapes) so that this ground
   * floor imports none of them; each owner casts back to its own type.
   */
  globalGate: unknown = null;
  breakerRoute: unknown = null;
  primaryName = '';
  primaryCluster: UpstreamCluster | null = null;
  upstreamDuration: ReadonlyMap<string, HistogramSeries> | null = null;

  constructor(name: string) {
    this.name = name;
  }
}

export type ClassTable = ReadonlyMap<string, CompiledClass>;

/** One CompiledClass per class of the rules, slots empty. */
export function compileClasses(rules: Rules): Map<string, CompiledClass> {
  const table = new Map<string, CompiledClass>();
  for (const c of rules.classes) table.set(c.name, new CompiledClass(c.name));
  return table;
}
