// Rules → Policy. Everything the request path needs is built here, once per load: guards in
// order (an unconfigured guard is simply absent), upstream pools, breakers, metric children.
// Stateful parts come from the state registry, so an unchanged rule keeps its counters, breaker
// state and pools across a reload.
import type { HistogramSeries } from './hot-metrics.ts';
import type { UsageRegistry } from './accounts/usage.ts';
import type { TransitionListener } from './breakers/breaker.ts';
import type { Clock } from './clock.ts';
import { isSettling, type Guard } from './guards/guard.ts';
import { buildAdaptiveGuard } from './guards/adaptive.ts';
import { buildBreakerGuard } from './guards/breaker.ts';
import { buildFaultGuard } from './guards/fault.ts';
import type { FaultState } from './faults/fault-state.ts';
import { buildLimitGuards } from './guards/pipeline.ts';
import { compileClasses } from './compiled-class.ts';
import type { Metrics } from './metrics.ts';
import type { ClassMetrics, Policy } from './policy.ts';
import { RequestCounters } from './request-counters.ts';
import type { LoadedRules } from './rules/reloader.ts';
import type { ClusterRules, FaultRules } from './rules/types.ts';
import type { StateRegistry } from './state-registry.ts';
import type { CounterStore } from './store/store.ts';
import { clusterIdentity, UpstreamCluster } from './upstream/cluster.ts';
import type { SwitchState } from './upstream/switch-state.ts';
import { compileMirrors } from './upstream/mirror.ts';
import type { MismatchLog } from './upstream/mirror-state.ts';

export interface CompileDeps {
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
  readonly clock: Clock;
  readonly store: CounterStore;
  readonly usage: UsageRegistry;
  readonly switchState: SwitchState;
  readonly onBreakerTransition?: TransitionListener;
  /** One call when an endpoint enters or leaves rotation by its health checks (the log line). */
  readonly onEndpointHealth?: (cluster: string, endpoint: string, healthy: boolean) => void;
  /** Drills started through the admin API, added to the rules' own. */
  readonly faults?: FaultState;
  /** A mirror mismatch sample for the control log (at most one per mirror per second). */
  readonly onMirrorMismatch?: MismatchLog;
}

/** The rules' drills and the admin ones, without those already ended. */
function activeFaults(own: readonly FaultRules[], admin: FaultState | undefined): readonly FaultRules[] {
  const now = Date.now();
  const running = own.filter((fault) => (fault.until ?? Infinity) > now);
  return admin === undefined ? running : [...running, ...admin.faults(now)];
}

/**
 * A cluster's pools and health checks live as long as its definition is unchanged; replaced ones
 * close gracefully, and a removed cluster's checks stop.
 */
class ClusterHolder {
  readonly cluster: UpstreamCluster;
  constructor(rules: ClusterRules, deps: CompileDeps) {
    this.cluster = new UpstreamCluster(rules, {
      retryCounters: {
        sent: deps.metrics.retries.labels(rules.name, 'sent'),
        budgetExhausted: deps.metrics.retries.labels(rules.name, 'budget_exhausted'),
      },
      onHealthChange: deps.onEndpointHealth,
    });
  }
  dispose(): void {
    // close() lets requests in flight on the old pools finish.
    void this.cluster.close();
  }
}

export function compilePolicy(loaded: LoadedRules, deps: CompileDeps): Policy {
  const { rules } = loaded;
  const { metrics, registry } = deps;
  registry.begin();
  try {
    const clusters = new Map<string, UpstreamCluster>();
    for (const [name, clusterRules] of rules.clusters) {
      clusters.set(name, registry.get(clusterIdentity(clusterRules), () => new ClusterHolder(clusterRules, deps)).cluster);
    }
    // Each class compiled once; the guards and the metric children below hang their parts on it.
    const classes = compileClasses(rules);
    const limitGuards = buildLimitGuards(rules, {
      store: deps.store,
      clock: deps.clock,
      metrics,
      registry,
      usage: deps.usage,
      classes,
    });
    const switchMap = deps.switchState.effective(rules.switch);
    const routing = buildBreakerGuard(rules, {
      clock: deps.clock,
      metrics,
      registry,
      onTransition: deps.onBreakerTransition,
      switchOverride: deps.switchState.overridden ? switchMap : undefined,
      classes,
    });
    const guards: Guard[] = [...limitGuards, routing.guard];
    // After the breaker: it knows the cluster a request goes to, failover included.
    const adaptive = buildAdaptiveGuard(rules, { clock: deps.clock, metrics, registry, switchMap });
    if (adaptive !== null) guards.push(adaptive.guard);
    // Fault drills come last (SPEC §3 order): their delay and aborts reach every guard before them.
    const faultGuard = buildFaultGuard(activeFaults(rules.faults, deps.faults), metrics);
    if (faultGuard !== null) guards.push(faultGuard);

    const classMetrics = new Map<string, ClassMetrics>();
    for (const klass of rules.classes) {
      const upstreamDuration = new Map<string, HistogramSeries>();
      for (const cluster of rules.clusters.keys()) {
        upstreamDuration.set(cluster, metrics.upstreamDuration.labels(cluster, klass.name));
      }
      classMetrics.set(klass.name, { upstreamDuration });
      const compiled = classes.get(klass.name);
      if (compiled !== undefined) {
        compiled.upstreamDuration = upstreamDuration;
        compiled.primaryCluster = clusters.get(compiled.primaryName) ?? null;
      }
    }
    const policy: Policy = {
      version: loaded.hash,
      loadedAt: new Date().toISOString(),
      files: loaded.files,
      rules,
      guards,
      settlers: guards.filter(isSettling),
      breakers: routing.breakers,
      adaptive,
      clusters,
      switchMap,
      classMetrics,
      requests: new RequestCounters(metrics.requests),
      mirrors: compileMirrors(rules.mirrors, { counter: metrics.mirrorRequests, registry, clusters, log: deps.onMirrorMismatch ?? null }),
      warnings: routing.warnings,
    };
    registry.commit();
    metrics.showAdaptive(adaptive?.controllers ?? new Map());
    return Object.freeze(policy);
  } catch (error) {
    registry.abort();
    throw error;
  }
}
