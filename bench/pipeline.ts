// Micro-benchmark of the limit pipeline alone (no sockets): 10 000 accounts, every limit guard
// on, the memory store, the system clock, and 1 000 000 distinct member ids through a hot-key
// table (track 100 000) with one hot id among them. Prints ns per decision (p50/p99 over batches
// of 1000), decisions per second, and memory after the run.
//   node --expose-gc bench/pipeline.ts [decisions]
import { cpus } from 'node:os';
import type { IncomingMessage } from 'node:http';
import { UsageRegistry } from '../proxy/src/accounts/usage.ts';
import { systemClock } from '../proxy/src/clock.ts';
import { RequestContext } from '../proxy/src/request-context.ts';
import { HotKeyGuard } from '../proxy/src/guards/hot-key.ts';
import { buildLimitGuards, runGuards } from '../proxy/src/guards/pipeline.ts';
import { Metrics } from '../proxy/src/metrics.ts';
import type { AccountRules, Rules } from '../proxy/src/rules/types.ts';
import { StateRegistry } from '../proxy/src/state-registry.ts';
import { MemoryStore } from '../proxy/src/store/memory-store.ts';

const ACCOUNTS = 10_000;
const DISTINCT = 1_000_000;
const DECISIONS = Number(process.argv[2] ?? 3_000_000);
const BATCH = 1000;

function rate(perSecond: number): { text: string; perSecond: number } {
  return { text: `${perSecond}/s`, perSecond };
}

const accounts: AccountRules[] = [];
for (let i = 0; i < ACCOUNTS; i++) {
  accounts.push({
    id: `acct-${i}`,
    owner: 'bench',
    team: 'bench',
    scenario: 'benchmark',
    class: i % 10 === 0 ? 'marketing' : 'order',
    keySha256: null,
    quota: rate(100_000),
    burst: 1000,
    routes: i % 2 === 0 ? ['GET /members/*', 'GET /members/*/level'] : null,
  });
}

const rules: Rules = {
  server: { listen: '127.0.0.1:0', admin: '127.0.0.1:0', adminTokenEnv: null, metricsPublic: false, headersTimeoutMs: 10_000, maxHeaders: 100 },
  store: { kind: 'memory', url: null, nodes: [], onFailure: 'local', instances: 1 },
  clusters: new Map(),
  classes: [
    { name: 'order', priority: 0, cluster: 'primary', failover: 'backup', maxShare: 1 },
    { name: 'marketing', priority: 1, cluster: 'marketing', failover: null, maxShare: 0.3 },
  ],
  switch: new Map(),
  callers: { auth: 'trust', unknown: 'reject', unknownQuota: null, unknownBurst: 0, enforceRoutes: false, accounts, identity: [{ kind: 'ip' }] },
  limits: {
    global: { rate: rate(10_000_000), burst: 1_000_000, scope: 'instance', shadow: false },
    hotKeys: [
      {
        name: 'member-id',
        key: 'path:/members/{id}',
        rate: rate(50),
        burst: 0,
        overrides: new Map([['10086', rate(500)]]),
        overrideBursts: new Map([['10086', 0]]),
        track: 100_000,
        shadow: false,
      },
    ],
    adaptive: [],
  },
  degrade: [],
  faults: [],
  tracing: null,
};

const clock = systemClock;
const metrics = new Metrics({ defaultMetrics: false });
const registry = new StateRegistry();
const store = new MemoryStore(clock);
const usage = new UsageRegistry(clock);
const guards = buildLimitGuards(rules, { store, clock, metrics, registry, usage });

(globalThis as { gc?: () => void }).gc?.();
const built = process.memoryUsage();

// One request-like object per account, as the listener would hand over.
const requests = accounts.map(
  (a, i) =>
    ({
      method: 'GET',
      headers: { 'x-caller-account': a.id },
      socket: { remoteAddress: `10.0.${(i >> 8) & 255}.${i & 255}` },
    }) as unknown as IncomingMessage,
);

let admitted = 0;
let refused = 0;
let next = 0;
function decide(i: number): void {
  const req = requests[i % ACCOUNTS];
  // One request in 16 is for the hot id; the rest walk through 1M distinct ids.
  const path = (i & 15) === 0 ? '/members/42' : `/members/${next++ % DISTINCT}`;
  // Read once per request, as the listener does: the guards judge it at its arrival.
  const ctx = new RequestContext(req, path, path, '', clock.now());
  const verdict = runGuards(guards, ctx);
  if (verdict === null) admitted++;
  else refused++;
}

// Warm-up, then measured batches.
for (let i = 0; i < 200_000; i++) decide(i);
const perDecision: number[] = [];
const started = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
for (let b = 0; b < DECISIONS / BATCH; b++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) decide(b * BATCH + i);
  perDecision.push(Number(process.hrtime.bigint() - t0) / BATCH);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStart);
perDecision.sort((a, b) => a - b);
const pct = (p: number) => perDecision[Math.min(perDecision.length - 1, Math.floor(p * perDecision.length))];
const table = (guards.find((g) => g instanceof HotKeyGuard) as HotKeyGuard).rules[0].table;
// Live memory, not garbage awaiting collection (run with --expose-gc for an exact figure).
(globalThis as { gc?: () => void }).gc?.();
const mem = process.memoryUsage();

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}`);
console.log(`guards: ${guards.map((g) => g.name).join(' → ')}; ${ACCOUNTS} accounts; ${next} member ids offered (${DISTINCT} distinct)`);
console.log(`decisions: ${DECISIONS} in ${seconds.toFixed(2)} s → ${Math.round(DECISIONS / seconds).toLocaleString('en')} /s`);
console.log(`ns per decision (batches of ${BATCH}): p50 ${pct(0.5).toFixed(0)}, p99 ${pct(0.99).toFixed(0)}, max ${pct(1).toFixed(0)}`);
// CPU time is steadier than wall time on a shared machine.
console.log(`cpu per decision: ${(((cpu.user + cpu.system) * 1000) / DECISIONS).toFixed(0)} ns`);
console.log(`admitted ${admitted}, refused ${refused}; hot-key table ${table.size}/${table.track} keys; store ${store.size} buckets`);
console.log(`rss ${(mem.rss / 2 ** 20).toFixed(1)} MiB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(1)} MiB (after the ${DISTINCT} keys; baseline after build: rss ${(built.rss / 2 ** 20).toFixed(1)} MiB, heap ${(built.heapUsed / 2 ** 20).toFixed(1)} MiB)`);
registry.begin();
registry.commit();
