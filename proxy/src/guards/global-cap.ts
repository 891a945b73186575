// Global cap with class ceilings (SPEC §3): at most `rate` admitted in total, and a class with
// max_share s only while it stays under s × rate; both buckets are taken in one all-or-none store
// call, so a refused class uses none of the total. 429 global_cap. The global rule has no `burst`
// key: the total takes the default burst (rules/burst.ts, set at normalization) and each class
// ceiling the same default at its own rate, so a span of t seconds admits at most
// rate × (t + 0.1) + 1 and arrivals bunched by the event loop are not refused far below the cap.
// sluice_global_admitted_ratio{class} is the share of the cap admitted in the last second, set
// by a 1 s timer from plain counters.
import type { Gauge } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics.ts';
import { rejection, type LimitInfo } from '../reasons.ts';
import type { Rules } from '../rules/types.ts';
import type { StateRegistry } from '../state-registry.ts';
import type { ClassTable } from '../compiled-class.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { taggedKey } from '../store/redis-keys.ts';
import { defaultBurst } from '../rules/burst.ts';
import { bucketSpec, type BucketSpec, type CounterStore } from '../store/store.ts';
import { accountOf } from './account-table.ts';
import { fixedRejection } from './rejections.ts';
import { CONSUMED_GLOBAL } from './consumed.ts';
import type { Guard, RequestContext, Verdict } from './guard.ts';

/** All global buckets share one hash tag: taken together in one script on Redis Cluster. */
const TAG = 'global';
const CLOSED_RETRY_MS = 1000;

export interface GlobalCapDeps {
  readonly store: CounterStore;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
}

interface Gate {
  readonly className: string;
  /** Index in the meter's counters. */
  readonly index: number;
  /** [classBucket, totalBucket], or [totalBucket] for a class without a ceiling below the cap. */
  readonly buckets: readonly BucketSpec[];
  readonly limit: LimitInfo;
  /** max_share 0: never admitted. */
  readonly closed: boolean;
}

/** Admitted counts per class, published each second as a share of the cap. */
export class GlobalMeter {
  readonly admitted: Float64Array;
  private readonly rate: number;
  private readonly gauges: Gauge.Internal<'class'>[];
  private readonly timer: NodeJS.Timeout;

  constructor(classes: readonly string[], rate: number, metrics: Metrics) {
    this.admitted = new Float64Array(classes.length);
    this.rate = rate;
    this.gauges = classes.map((c) => metrics.globalAdmittedRatio.labels(c));
    for (const g of this.gauges) g.set(0);
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  /** Publish the last interval's shares and start a new one. */
  flush(): void {
    for (let i = 0; i < this.gauges.length; i++) {
      this.gauges[i].set(this.admitted[i] / this.rate);
      this.admitted[i] = 0;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}

export function globalCapGuard(rules: Rules, deps: GlobalCapDeps, classes?: ClassTable): GlobalCapGuard | null {
  return rules.limits.global === null ? null : new GlobalCapGuard(rules, deps, classes);
}

export class GlobalCapGuard implements Guard {
  readonly name = 'global_cap';
  readonly meter: GlobalMeter;
  private readonly store: CounterStore;
  private readonly shadow: boolean;
  private readonly gates = new Map<string, Gate>();
  /** For a request of no known class: the total alone. */
  private readonly fallback: Gate;

  /** `classes`: the policy's compiled classes; each gets its gate (see compiled-class.ts). */
  constructor(rules: Rules, deps: GlobalCapDeps, classes?: ClassTable) {
    const global = rules.limits.global;
    if (global === null) throw new Error('no global limit configured');
    const rate = global.rate.perSecond;
    this.shadow = global.shadow;
    // Instance scope with a shared store: this process's own memory buckets.
    this.store =
      global.scope === 'instance' && deps.store.kind !== 'memory'
        ? deps.registry.get('global:instance-store', () => new LocalStore(deps.clock))
        : deps.store;
    const mode = global.shadow ? 'shadow:' : '';
    const total = bucket(deps.registry, `${mode}total:${rate}`, rate, global.burst);
    const totalLimit = Object.freeze({ policy: 'global', quota: rate, windowSeconds: 1 });
    const names = rules.classes.map((c) => c.name);
    this.meter = deps.registry.get(`global-meter:${rate}:${names.join(',')}`, () => new GlobalMeter(names, rate, deps.metrics));
    rules.classes.forEach((c, index) => {
      const ceiling = rate * Math.min(1, Math.max(0, c.maxShare));
      const buckets =
        ceiling >= rate || ceiling <= 0
          ? Object.freeze([total])
          : Object.freeze([bucket(deps.registry, `${mode}class:${c.name}:${ceiling}`, ceiling, defaultBurst(ceiling)), total]);
      const limit = ceiling >= rate ? totalLimit : Object.freeze({ policy: 'global', quota: Math.floor(ceiling), windowSeconds: 1 });
      const gate: Gate = { className: c.name, index, buckets, limit, closed: ceiling <= 0 };
      this.gates.set(c.name, gate);
      const compiled = classes?.get(c.name);
      if (compiled !== undefined) compiled.globalGate = gate;
    });
    this.fallback = { className: '', index: -1, buckets: Object.freeze([total]), limit: totalLimit, closed: false };
  }

  /** The request's gate: from its compiled class when it has one, else by class name. */
  private gateOf(ctx: RequestContext): Gate {
    const compiled = accountOf(ctx)?.klass?.globalGate as Gate | null | undefined;
    return compiled ?? this.gates.get(ctx.className) ?? this.fallback;
  }

  check(ctx: RequestContext): Verdict | Promise<Verdict> {
    const gate = this.gateOf(ctx);
    if (gate.closed) return this.decide(ctx, gate, CLOSED_RETRY_MS);
    const waited = this.store.take(gate.buckets, ctx.startedAt);
    if (typeof waited === 'number') return this.decide(ctx, gate, waited);
    return waited.then((ms) => this.decide(ctx, gate, ms));
  }

  refund(ctx: RequestContext): void {
    if ((ctx.consumed & CONSUMED_GLOBAL) === 0) return;
    ctx.consumed &= ~CONSUMED_GLOBAL;
    const gate = this.gateOf(ctx);
    this.store.give(gate.buckets);
    if (gate.index >= 0) this.meter.admitted[gate.index]--;
  }

  private decide(ctx: RequestContext, gate: Gate, waitMs: number): Verdict {
    if (waitMs === 0) {
      ctx.consumed |= CONSUMED_GLOBAL;
      if (gate.index >= 0) this.meter.admitted[gate.index]++;
      return null;
    }
    // The shared store is down and the rules say `on_failure: reject`.
    if (waitMs < 0) return this.shadow ? null : STORE_UNAVAILABLE;
    if (this.shadow) {
      ctx.shadowed = true;
      accountOf(ctx)?.countShadow('global_cap');
      return null;
    }
    return rejection('global_cap', waitMs, gate.limit);
  }
}

const STORE_UNAVAILABLE = fixedRejection('store_unavailable');

/** A global bucket; its key is its identity, so a changed rate or share starts a fresh one. */
function bucket(registry: StateRegistry, name: string, perSecond: number, burst: number): BucketSpec {
  const key = taggedKey(TAG, `${name}:${burst}`);
  return registry.get(key, () => bucketSpec(key, perSecond, burst));
}

/** MemoryStore kept in the state registry: disposed with the rule that made it. */
class LocalStore extends MemoryStore {
  dispose(): void {
    void this.close();
  }
}
