// The last guard before forwarding: picks the cluster (ctx.cluster) from the class's route and the
// state of the breakers on it. Primary while its breakers allow; else the failover cluster when
// every refusing breaker says `failover` and the failover cluster's own breakers allow; else 503
// circuit_open with the time to the next probe. Shadow breakers are evaluated on the chosen
// cluster and reported when they would have refused, but never change where a request goes.
// A class with a `split` first decides (upstream/split.ts) whether this request goes to the split
// cluster; that cluster then stands in for the class's own, with its own breakers and the class's
// failover (none for an isolated class), so breakers and failover apply to the cluster chosen.
// Its settle feeds each answer (latency, error) to the breakers of the cluster it went to.
import { Breaker, breakerIdentity, DENIED, type TransitionListener } from '../breakers/breaker.ts';
import { BreakerSet, holdProbe } from '../breakers/breaker-set.ts';
import { WindowClock } from '../breakers/window-clock.ts';
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics.ts';
import { rejection, type Rejection } from '../reasons.ts';
import type { Rules } from '../rules/types.ts';
import type { StateRegistry } from '../state-registry.ts';
import { compileRoutes, type ClassRoute } from '../upstream/router.ts';
import { SplitDecision } from '../upstream/split.ts';
import type { Guard, RequestContext, Verdict } from './guard.ts';
import type { ClassTable } from '../compiled-class.ts';
import { accountOf } from './account-table.ts';
import { isUpstreamError, latencyOf, measuresUpstream, type Outcome } from '../request-context.ts';

export interface BreakerGuardDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
  /** One call per breaker state change (the log line). */
  readonly onTransition?: TransitionListener;
  /** Effective switch when one was posted to the admin API: replaces rules.switch. */
  readonly switchOverride?: ReadonlyMap<string, string>;
  /** Shared window ticker; by default one kept in the registry (one interval for the process). */
  readonly windowClock?: WindowClock;
  /**
   * A shadow breaker would have refused this request. Default: ctx.shadowed = true and
   * sluice_shadow_rejections_total{reason="circuit_open"} + 1.
   */
  readonly onShadowReject?: (ctx: RequestContext) => void;
  /** The policy's compiled classes: each gets its route and the name of its cluster (see compiled-class.ts). */
  readonly classes?: ClassTable;
}

export interface BreakerGuard {
  readonly guard: Guard;
  readonly breakers: BreakerSet;
  /** Switch entries not applied (unknown cluster, or would break a class's isolation). */
  readonly warnings: readonly string[];
}

/** The breakers' cluster routing of one class, with its breakers split by role. */
interface Gate {
  readonly name: string;
  readonly real: readonly Breaker[];
  readonly shadow: readonly Breaker[];
}

interface CompiledRoute {
  readonly primary: Gate;
  readonly failover: Gate | null;
  /** The class's split: when it moves a request, `route` replaces this one. */
  readonly split: { readonly decision: SplitDecision; readonly route: CompiledRoute } | null;
}

const WINDOW_CLOCK_IDENTITY = 'breakers:window-clock';
/** Margin over a cluster's timeout after which a probe with no outcome is considered lost. */
const PROBE_DEADLINE_MARGIN_MS = 1000;
/** A class with no route: cannot happen with validated rules; answered rather than thrown. */
const UNROUTABLE: Rejection = Object.freeze(rejection('upstream_unavailable'));

export function buildBreakerGuard(rules: Rules, deps: BreakerGuardDeps): BreakerGuard {
  const table = compileRoutes(rules, deps.switchOverride ?? rules.switch);
  for (const [name, route] of table.routes) {
    const compiled = deps.classes?.get(name);
    if (compiled !== undefined) compiled.primaryName = route.primary;
  }

  if (rules.degrade.length === 0) {
    const clusterOf = new Map<string, string>();
    const splits = new Map<string, SplitDecision>();
    for (const [name, route] of table.routes) {
      clusterOf.set(name, route.primary);
      const split = splitOf(rules, route, deps.metrics);
      if (split !== null) splits.set(name, split);
    }
    const guard: Guard = {
      name: 'breaker',
      check(ctx) {
        const compiled = accountOf(ctx)?.klass;
        const cluster = compiled != null && compiled.primaryName !== '' ? compiled.primaryName : clusterOf.get(ctx.className);
        if (cluster === undefined) return UNROUTABLE;
        if (splits.size !== 0) {
          const split = splits.get(ctx.className);
          if (split !== undefined && split.moves(ctx)) {
            ctx.cluster = split.to;
            return null;
          }
        }
        ctx.cluster = cluster;
        return null;
      },
    };
    return { guard, breakers: new BreakerSet([], null), warnings: table.warnings };
  }

  const windowClock =
    deps.windowClock ?? deps.registry.get(WINDOW_CLOCK_IDENTITY, () => new WindowClock(deps.clock));
  const wiringBase = { metrics: deps.metrics, onTransition: deps.onTransition ?? null };
  const breakers = rules.degrade.map((rule) => {
    const breaker = deps.registry.get(breakerIdentity(rule), () => new Breaker(rule, deps.clock, windowClock));
    const timeoutMs = rules.clusters.get(rule.cluster)?.timeoutMs ?? 10_000;
    breaker.wire({ ...wiringBase, probeDeadlineMs: timeoutMs + PROBE_DEADLINE_MARGIN_MS });
    return breaker;
  });
  const set = new BreakerSet(breakers, windowClock);

  const gates = new Map<string, Gate>();
  const gateOf = (cluster: string): Gate => {
    let gate = gates.get(cluster);
    if (gate === undefined) {
      const watching = set.of(cluster);
      gate = Object.freeze({
        name: cluster,
        real: watching.filter((b) => !b.shadow),
        shadow: watching.filter((b) => b.shadow),
      });
      gates.set(cluster, gate);
    }
    return gate;
  };
  const routes = new Map<string, CompiledRoute>();
  for (const [name, route] of table.routes) {
    const failover = route.failover === null ? null : gateOf(route.failover);
    const decision = splitOf(rules, route, deps.metrics);
    const split =
      decision === null || route.split === null
        ? null
        : Object.freeze({
            decision,
            route: Object.freeze({
              primary: gateOf(route.split),
              failover: route.failover === route.split ? null : failover,
              split: null,
            }),
          });
    const compiledRoute: CompiledRoute = Object.freeze({ primary: gateOf(route.primary), failover, split });
    routes.set(name, compiledRoute);
    const compiled = deps.classes?.get(name);
    if (compiled !== undefined) compiled.breakerRoute = compiledRoute;
  }

  const metrics = deps.metrics;
  const onShadowReject =
    deps.onShadowReject ??
    ((ctx: RequestContext) => {
      ctx.shadowed = true;
      metrics.shadowRejections.labels(ctx.accountId || 'unknown', ctx.className || 'none', 'circuit_open').inc();
    });

  const guard: Guard = {
    name: 'breaker',
    check(ctx: RequestContext): Verdict {
      let route = (accountOf(ctx)?.klass?.breakerRoute as CompiledRoute | null | undefined) ?? routes.get(ctx.className);
      if (route === undefined) return UNROUTABLE;
      if (route.split !== null && route.split.decision.moves(ctx)) route = route.split.route;
      const primary = route.primary;
      const failover = route.failover;
      let chosen: Gate;
      if (permitsAll(primary.real)) chosen = primary;
      else if (failover !== null && failsOverAll(primary.real) && permitsAll(failover.real)) chosen = failover;
      else return rejection('circuit_open', retryAfterMs(route));
      const real = chosen.real;
      for (let i = 0; i < real.length; i++) {
        const token = real[i].acquire();
        if (token > 0) holdProbe(ctx, real[i], token);
      }
      ctx.cluster = chosen.name;
      if (chosen.shadow.length !== 0 && shadowWouldRefuse(ctx, route, chosen)) onShadowReject(ctx);
      return null;
    },
    refund(ctx: RequestContext): void {
      set.release(ctx);
    },
    settle(ctx: RequestContext, outcome: Outcome): void {
      // A client that left before the answer tells nothing about the upstream's health.
      const failed = outcome.failedAttempts ?? 0;
      const failedMs = failed === 0 ? 0 : (outcome.failedAttemptsMs ?? 0);
      // Retried attempts count like any other call: each failed one is an error of its own.
      for (let i = 0; i < failed; i++) set.record(ctx.cluster, failedMs / failed, true);
      if (measuresUpstream(outcome)) set.settle(ctx, latencyOf(ctx, outcome) - failedMs, isUpstreamError(outcome));
      else set.release(ctx);
    },
  };
  return { guard, breakers: set, warnings: table.warnings };
}

/** The split decision of a class's route, or null when it has none. */
function splitOf(rules: Rules, route: ClassRoute, metrics: Metrics): SplitDecision | null {
  if (route.split === null) return null;
  const splitRules = rules.classes.find((cls) => cls.name === route.className)?.split;
  if (splitRules == null) return null;
  return new SplitDecision(splitRules, route.split, {
    home: metrics.splitRequests.labels(route.className, route.primary),
    moved: metrics.splitRequests.labels(route.className, route.split),
  });
}

function permitsAll(breakers: readonly Breaker[]): boolean {
  for (let i = 0; i < breakers.length; i++) if (!breakers[i].permits()) return false;
  return true;
}

/** Every refusing breaker allows failing over. */
function failsOverAll(breakers: readonly Breaker[]): boolean {
  for (let i = 0; i < breakers.length; i++) {
    const breaker = breakers[i];
    if (!breaker.failsOver && !breaker.permits()) return false;
  }
  return true;
}

/** Soonest time at which one of the refusing breakers on the route lets a probe through. */
function retryAfterMs(route: CompiledRoute): number {
  let soonest = Infinity;
  const gates = route.failover === null ? [route.primary] : [route.primary, route.failover];
  for (const gate of gates) {
    for (const breaker of gate.real) {
      if (!breaker.permits()) soonest = Math.min(soonest, breaker.nextProbeInMs());
    }
  }
  return soonest === Infinity ? 0 : soonest;
}

/**
 * Asks the shadow breakers of the chosen cluster as if they were real (taking their half-open
 * probes, so they can close again) and answers whether the request would then have been refused.
 * Had they sent it to the failover cluster instead, that is a reroute, not a refusal.
 */
function shadowWouldRefuse(ctx: RequestContext, route: CompiledRoute, chosen: Gate): boolean {
  let refused = false;
  let failsOver = true;
  const shadow = chosen.shadow;
  for (let i = 0; i < shadow.length; i++) {
    const token = shadow[i].acquire();
    if (token === DENIED) {
      refused = true;
      if (!shadow[i].failsOver) failsOver = false;
    } else if (token > 0) {
      holdProbe(ctx, shadow[i], token);
    }
  }
  if (!refused) return false;
  const failover = route.failover;
  const wouldReroute =
    chosen === route.primary && failover !== null && failsOver && permitsAll(failover.real) && permitsAll(failover.shadow);
  return !wouldReroute;
}
