// Micro-benchmark: what the breaker guard adds per request — one routing decision plus one
// settle() of the finished exchange — with closed breakers (the steady state).
// Usage: node bench/breaker.ts [iterations]
import type { IncomingMessage } from 'node:http';
import { cpus } from 'node:os';
import { systemClock } from '../proxy/src/clock.ts';
import { buildBreakerGuard } from '../proxy/src/guards/breaker.ts';
import { RequestContext } from '../proxy/src/request-context.ts';
import { Metrics } from '../proxy/src/metrics.ts';
import type { ClassRules, DegradeRules, Rules } from '../proxy/src/rules/types.ts';
import { StateRegistry } from '../proxy/src/state-registry.ts';

const iterations = Number(process.argv[2] ?? 2_000_000);
const samples = 7;

function degrade(name: string, kind: DegradeRules['kind'], threshold: number, shadow = false): DegradeRules {
  return { name, cluster: 'primary', kind, threshold, windowMs: 1000, minRequests: 20, openForMs: 10_000, probes: 3, action: 'failover', shadow };
}

function rules(degradeRules: readonly DegradeRules[], split: ClassRules['split'] = null): Rules {
  const cluster = (name: string) => ({ name, endpoints: ['http://127.0.0.1:1'], timeoutMs: 2000, connections: 8, balance: 'round_robin' as const, healthCheck: null, retry: null });
  return {
    server: { listen: '127.0.0.1:0', admin: '127.0.0.1:0', adminTokenEnv: null, metricsPublic: false, headersTimeoutMs: 10_000, maxHeaders: 100 },
    store: { kind: 'memory', url: null, nodes: [], onFailure: 'local', instances: 1 },
    clusters: new Map([['primary', cluster('primary')], ['marketing', cluster('marketing')], ['backup', cluster('backup')], ['spare', cluster('spare')]]),
    classes: [
      { name: 'order', priority: 0, cluster: 'primary', failover: 'backup', maxShare: 1, split },
      { name: 'marketing', priority: 1, cluster: 'marketing', failover: null, maxShare: 0.3 },
    ],
    switch: new Map(),
    callers: { auth: 'trust', unknown: 'reject', unknownQuota: null, unknownBurst: 0, enforceRoutes: false, accounts: [], identity: [{ kind: 'ip' }] },
    limits: { global: null, hotKeys: [], adaptive: [] },
    degrade: degradeRules,
    faults: [],
    tracing: null,
  };
}

const STICKY_SPLIT: ClassRules['split'] = { to: 'spare', percent: 10, sticky: 'path:/members/{id}' };

const scenarios: readonly { name: string; rules: Rules }[] = [
  { name: 'routing only (no degrade rules)', rules: rules([]) },
  { name: '1 closed breaker (error_ratio)', rules: rules([degrade('primary-errors', 'error_ratio', 0.5)]) },
  {
    name: '3 closed breakers + 1 shadow (rt, error_ratio, error_count)',
    rules: rules([
      degrade('primary-slow', 'rt', 200),
      degrade('primary-errors', 'error_ratio', 0.5),
      degrade('primary-count', 'error_count', 1_000_000),
      degrade('primary-shadow', 'error_ratio', 0.9, true),
    ]),
  },
  // A migration split (README "Migration cut-over"): the sticky hash of the member id per request.
  { name: 'routing + sticky split (path:/members/{id})', rules: rules([], STICKY_SPLIT) },
  { name: '1 closed breaker + sticky split', rules: rules([degrade('primary-errors', 'error_ratio', 0.5)], STICKY_SPLIT) },
];

const req = { method: 'GET', headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
const ctx = new RequestContext(req, '/members/1', '/members/1', '', 0);
ctx.className = 'order';
ctx.accountId = 'order-center';

function stats(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, sd };
}

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, ${iterations} decisions per sample, ${samples} samples`);
const results: { scenario: string; ns_per_request: number; sd: number }[] = [];
for (const scenario of scenarios) {
  const registry = new StateRegistry();
  registry.begin();
  const { guard, breakers } = buildBreakerGuard(scenario.rules, { clock: systemClock, metrics: new Metrics({ defaultMetrics: false }), registry });
  registry.commit();
  const run = (n: number): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      ctx.cluster = '';
      if (guard.check(ctx) !== null) throw new Error('unexpected rejection');
      breakers.settle(ctx, 5 + (i & 7), false);
    }
    return Number(process.hrtime.bigint() - start) / n;
  };
  run(200_000); // warm-up: let the JIT settle
  const ns: number[] = [];
  for (let s = 0; s < samples; s++) ns.push(run(iterations));
  const { mean, sd } = stats(ns);
  results.push({ scenario: scenario.name, ns_per_request: Math.round(mean * 10) / 10, sd: Math.round(sd * 10) / 10 });
  for (const breaker of breakers.all) if (breaker.state !== 'closed') throw new Error(`${breaker.name} left closed`);
  registry.begin();
  registry.commit(); // disposes the breakers and stops the ticker
}
for (const r of results) console.log(`${r.scenario.padEnd(62)} ${String(r.ns_per_request).padStart(7)} ns/request ± ${r.sd}`);
