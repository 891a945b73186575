// Rules objects for breaker and routing tests, built directly (no YAML): the three clusters and two
// classes of the example rules, with the degrade rules and switch each test needs.
import type { IncomingMessage } from 'node:http';
import type { BreakerSet } from '../../src/breakers/breaker-set.ts';
import { WindowClock } from '../../src/breakers/window-clock.ts';
import { ManualClock } from '../../src/clock.ts';
import { buildBreakerGuard } from '../../src/guards/breaker.ts';
import { RequestContext, type Guard, type Verdict } from '../../src/guards/guard.ts';
import { Metrics } from '../../src/metrics.ts';
import type { ClassRules, ClusterRules, DegradeRules, Rules } from '../../src/rules/types.ts';
import { StateRegistry } from '../../src/state-registry.ts';

export function degradeRule(overrides: Partial<DegradeRules> & Pick<DegradeRules, 'name' | 'cluster' | 'kind' | 'threshold'>): DegradeRules {
  return {
    windowMs: 1000,
    minRequests: 20,
    openForMs: 10_000,
    probes: 3,
    action: 'failover',
    shadow: false,
    ...overrides,
  };
}

function cluster(name: string, port: number): ClusterRules {
  return { name, endpoints: [`http://127.0.0.1:${port}`], timeoutMs: 2000, connections: 16, balance: 'round_robin', healthCheck: null, retry: null };
}

export const ORDER: ClassRules = { name: 'order', priority: 0, cluster: 'primary', failover: 'backup', maxShare: 1 };
export const MARKETING: ClassRules = { name: 'marketing', priority: 1, cluster: 'marketing', failover: null, maxShare: 0.3 };

export function breakerRules(
  options: {
    degrade?: readonly DegradeRules[];
    switch?: Readonly<Record<string, string>>;
    classes?: readonly ClassRules[];
  } = {},
): Rules {
  return {
    server: { listen: '127.0.0.1:0', admin: '127.0.0.1:0', adminTokenEnv: null, metricsPublic: false, headersTimeoutMs: 10_000, maxHeaders: 100 },
    store: { kind: 'memory', url: null, nodes: [], onFailure: 'local', instances: 1 },
    clusters: new Map([
      ['primary', cluster('primary', 8081)],
      ['marketing', cluster('marketing', 8082)],
      ['backup', cluster('backup', 8083)],
      // Used by no class: an isolated class may be switched here.
      ['spare', cluster('spare', 8084)],
    ]),
    classes: options.classes ?? [ORDER, MARKETING],
    switch: new Map(Object.entries(options.switch ?? {})),
    callers: { auth: 'trust', unknown: 'reject', unknownQuota: null, unknownBurst: 0, enforceRoutes: false, accounts: [], identity: [{ kind: 'ip' }] },
    limits: { global: null, hotKeys: [], adaptive: [] },
    degrade: options.degrade ?? [],
    faults: [],
    tracing: null,
  };
}

/** A breaker guard on a ManualClock, with a window ticker the test drives. */
export interface BreakerHarness {
  readonly clock: ManualClock;
  readonly windowClock: WindowClock;
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
  /** `name: from -> to` per transition, in order. */
  readonly transitions: string[];
  guard: Guard;
  breakers: BreakerSet;
  warnings: readonly string[];
  /** Moves time and lets the ticker catch up, as the real interval would. */
  advance(ms: number): void;
  /** Runs the breaker guard for a request of `className`. */
  decide(className: string, account?: string): { ctx: RequestContext; verdict: Verdict };
  /** decide(), then the exchange with the chosen cluster ends with `answer` (or what it gives for that cluster). */
  send(className: string, answer: Answer | ((cluster: string) => Answer)): Verdict | string;
  /** Builds the guard again from new rules, as a reload does (registry begin/commit). */
  rebuild(rules: Rules, switchOverride?: ReadonlyMap<string, string>): void;
}

export interface Answer {
  readonly latencyMs: number;
  readonly error: boolean;
}

export const ok = (latencyMs = 10): Answer => ({ latencyMs, error: false });
export const fail = (latencyMs = 10): Answer => ({ latencyMs, error: true });

export function makeContext(className: string, account = 'acct'): RequestContext {
  const req = { method: 'GET', headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
  const ctx = new RequestContext(req, '/members/1', '/members/1', '', 0);
  ctx.className = className;
  ctx.accountId = account;
  return ctx;
}

export function breakerHarness(rules: Rules, options: { switchOverride?: ReadonlyMap<string, string> } = {}): BreakerHarness {
  const clock = new ManualClock(1000);
  const windowClock = new WindowClock(clock, { timer: false });
  const metrics = new Metrics({ defaultMetrics: false });
  const registry = new StateRegistry();
  const transitions: string[] = [];
  const build = (next: Rules, switchOverride?: ReadonlyMap<string, string>) => {
    registry.begin();
    const built = buildBreakerGuard(next, {
      clock,
      metrics,
      registry,
      windowClock,
      switchOverride,
      onTransition: (breaker, from, to) => transitions.push(`${breaker.name}: ${from} -> ${to}`),
    });
    registry.commit();
    return built;
  };
  const first = build(rules, options.switchOverride);
  const harness: BreakerHarness = {
    clock,
    windowClock,
    metrics,
    registry,
    transitions,
    guard: first.guard,
    breakers: first.breakers,
    warnings: first.warnings,
    advance(ms) {
      clock.advance(ms);
      windowClock.tick();
    },
    decide(className, account) {
      const ctx = makeContext(className, account);
      const verdict = harness.guard.check(ctx);
      if (verdict instanceof Promise) throw new Error('the breaker guard answers synchronously');
      return { ctx, verdict };
    },
    send(className, answer) {
      const { ctx, verdict } = harness.decide(className);
      if (verdict !== null) return verdict;
      const { latencyMs, error } = typeof answer === 'function' ? answer(ctx.cluster) : answer;
      harness.breakers.settle(ctx, latencyMs, error);
      return ctx.cluster;
    },
    rebuild(next, switchOverride) {
      const built = build(next, switchOverride);
      harness.guard = built.guard;
      harness.breakers = built.breakers;
      harness.warnings = built.warnings;
    },
  };
  return harness;
}
