// The compiled, immutable policy the request path reads. Built once per rules load (or switch
// change) by compile.ts and swapped in as a whole.
import type { HistogramSeries } from './hot-metrics.ts';
import type { BreakerSet } from './breakers/breaker-set.ts';
import type { AdaptiveGuard } from './guards/adaptive.ts';
import type { Guard, SettlingGuard } from './guards/guard.ts';
import type { RequestCounters } from './request-counters.ts';
import type { Rules } from './rules/types.ts';
import type { UpstreamCluster } from './upstream/cluster.ts';
import type { MirrorTable } from './upstream/mirror.ts';

/** Metric children for one class, resolved at compile time. */
export interface ClassMetrics {
  /** Upstream duration per cluster name. */
  readonly upstreamDuration: ReadonlyMap<string, HistogramSeries>;
}

export interface Policy {
  readonly version: string;
  readonly loadedAt: string;
  readonly files: readonly string[];
  readonly rules: Rules;
  /** Guards in order: caller → routes → quota → hot key → global cap → breaker (routing). */
  readonly guards: readonly Guard[];
  /** The guards that learn from outcomes (breakers...), in pipeline order: settled once per forwarded request. */
  readonly settlers: readonly SettlingGuard[];
  readonly breakers: BreakerSet;
  /** Adaptive concurrency limits per cluster (SPEC §9), or null when none is configured. */
  readonly adaptive: AdaptiveGuard | null;
  readonly clusters: ReadonlyMap<string, UpstreamCluster>;
  /** Effective emergency re-pointing (rules' switch overlaid with the admin switch). */
  readonly switchMap: ReadonlyMap<string, string>;
  readonly classMetrics: ReadonlyMap<string, ClassMetrics>;
  /** sluice_requests_total, by account, class, cluster and status code. */
  readonly requests: RequestCounters;
  /** The mirrors by cluster copied from, or null when none are configured. */
  readonly mirrors: MirrorTable | null;
  /** Switch entries that could not be applied (unknown cluster, or would break isolation). */
  readonly warnings: readonly string[];
}
