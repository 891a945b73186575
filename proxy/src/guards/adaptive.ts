// The adaptive limit (SPEC §9), after the breaker: ctx.cluster is where the request goes, failover
// included, so failover traffic counts on the cluster it is sent to. Per cluster with a rule, one
// controller (limits/adaptive) holds the requests in flight and the limit L learned from their
// latency; the classes that can reach the cluster share L in priority order, the class at
// position k of n admitted while in-flight < L × (1 − reserve × k / (n − 1)). Refused: 503
// overloaded at once, never queued. A shadow rule counts what it would refuse and admits.
// The controller is the request's slot: settle and refund give it back, whichever policy is in
// force by then.
import type { Clock } from '../clock.ts';
import { AdaptiveController, type AdaptiveReading } from '../limits/adaptive/controller.ts';
import type { Metrics } from '../metrics.ts';
import { rejection, type Rejection } from '../reasons.ts';
import { latencyOf, measuresUpstream, isUpstreamError, type Outcome, type RequestContext } from '../request-context.ts';
import type { AdaptiveRules, Rules } from '../rules/types.ts';
import type { StateRegistry } from '../state-registry.ts';
import { compileRoutes } from '../upstream/router.ts';
import type { Guard, Verdict } from './guard.ts';

/** Retry-After of an overloaded answer: a limit moves within a few windows (100 ms each or more). */
const RETRY_AFTER_MS = 1000;
const OVERLOADED: Rejection = Object.freeze(rejection('overloaded', RETRY_AFTER_MS));

export interface AdaptiveGuardDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
  /** Effective switch, as the breaker guard routes with it. */
  readonly switchMap?: ReadonlyMap<string, string>;
}

/** One class on one limited cluster. */
interface Gate {
  readonly cluster: string;
  readonly controller: AdaptiveController;
  /** The class's share of L: 1 − reserve × k / (n − 1). */
  readonly share: number;
  readonly shadow: boolean;
}

export interface ClusterAdaptiveView {
  readonly cluster: string;
  readonly algorithm: string;
  readonly limit: number;
  readonly inflight: number;
  readonly noload_ms: number;
  readonly min_limit: number;
  readonly max_limit: number;
  readonly tolerance: number;
  readonly shadow: boolean;
  /** Classes sharing the cluster, in priority order, with the in-flight count each is admitted below. */
  readonly classes: readonly { readonly class: string; readonly share: number; readonly admitted_below: number }[];
}

export interface AdaptiveGuard {
  readonly guard: Guard;
  /** The controllers by cluster, for the gauges. */
  readonly controllers: ReadonlyMap<string, AdaptiveReading>;
  /** For GET /admin/adaptive. */
  describe(): ClusterAdaptiveView[];
}

/** The controller's state is what the rule learns: kept across reloads while these settings stay. */
export function adaptiveIdentity(rule: AdaptiveRules): string {
  return `adaptive:${rule.cluster}:${rule.algorithm}:${rule.initialLimit}:${rule.minLimit}:${rule.maxLimit}:${rule.tolerance}`;
}

/** One limited cluster: its rule, its controller, and the classes sharing it in priority order. */
interface Limited {
  readonly rule: AdaptiveRules;
  readonly controller: AdaptiveController;
  readonly classes: string[];
}

/** The class's share of L: the class at position k of n gets 1 − reserve × k / (n − 1). */
function shareOf(limited: Limited, className: string): number {
  const n = limited.classes.length;
  const k = limited.classes.indexOf(className);
  return n <= 1 || k < 0 ? 1 : 1 - (limited.rule.reserve * k) / (n - 1);
}

export function buildAdaptiveGuard(rules: Rules, deps: AdaptiveGuardDeps): AdaptiveGuard | null {
  if (rules.limits.adaptive.length === 0) return null;
  const table = compileRoutes(rules, deps.switchMap ?? rules.switch);
  const limited = new Map<string, Limited>();
  const controllers = new Map<string, AdaptiveController>();
  for (const rule of rules.limits.adaptive) {
    const controller = deps.registry.get(adaptiveIdentity(rule), () => new AdaptiveController(rule, deps.clock));
    limited.set(rule.cluster, { rule, controller, classes: [] });
    controllers.set(rule.cluster, controller);
  }
  // Classes in priority order (rules.classes is), each on the limited clusters it can reach.
  for (const klass of rules.classes) {
    const route = table.routes.get(klass.name);
    if (route === undefined) continue;
    for (const cluster of route.failover === null ? [route.primary] : [route.primary, route.failover]) {
      limited.get(cluster)?.classes.push(klass.name);
    }
  }
  const gates = new Map<string, readonly Gate[]>();
  for (const klass of rules.classes) {
    const list: Gate[] = [];
    for (const [cluster, entry] of limited) {
      if (!entry.classes.includes(klass.name)) continue;
      list.push(Object.freeze({ cluster, controller: entry.controller, share: shareOf(entry, klass.name), shadow: entry.rule.shadow }));
    }
    gates.set(klass.name, Object.freeze(list));
  }

  const shadowRejections = deps.metrics.shadowRejections;
  const guard: Guard = {
    name: 'adaptive',
    check(ctx: RequestContext): Verdict {
      const list = gates.get(ctx.className);
      if (list === undefined) return null;
      for (let i = 0; i < list.length; i++) {
        const gate = list[i];
        if (gate.cluster !== ctx.cluster) continue;
        const controller = gate.controller;
        if (!controller.admits(gate.share)) {
          controller.noteRefusal();
          if (!gate.shadow) return OVERLOADED;
          ctx.shadowed = true;
          shadowRejections.labels(ctx.accountId || 'unknown', ctx.className || 'none', 'overloaded').inc();
        }
        controller.enter();
        ctx.slot = controller;
        return null;
      }
      return null;
    },
    refund(ctx: RequestContext): void {
      const slot = ctx.slot;
      if (slot === null) return;
      ctx.slot = null;
      slot.cancel();
    },
    settle(ctx: RequestContext, outcome: Outcome): void {
      const slot = ctx.slot;
      if (slot === null) return;
      ctx.slot = null;
      // A client that left first, or a tunnel handed over, says nothing about the cluster's latency.
      if (measuresUpstream(outcome)) slot.finish(latencyOf(ctx, outcome), isUpstreamError(outcome));
      else slot.cancel();
    },
  };

  return {
    guard,
    controllers,
    describe(): ClusterAdaptiveView[] {
      return [...limited.values()].map((entry) => {
        const { rule, controller: c } = entry;
        return {
          cluster: rule.cluster,
          algorithm: rule.algorithm,
          limit: c.limit,
          inflight: c.inflight,
          noload_ms: Math.round(c.noloadMs * 100) / 100,
          min_limit: rule.minLimit,
          max_limit: rule.maxLimit,
          tolerance: rule.tolerance,
          shadow: rule.shadow,
          classes: entry.classes.map((name) => {
            const share = shareOf(entry, name);
            return { class: name, share, admitted_below: Math.round(c.limit * share * 100) / 100 };
          }),
        };
      });
    },
  };
}
