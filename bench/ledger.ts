// Micro-benchmark of the caller ledger off the request path: one pass (once a second in a sidecar)
// over 10 000 accounts, when all are idle, when 1 000 were called by a few identities each, and
// the in-process memory a day of that traffic takes. The request path's part (usage counters
// and a pending identity) is measured with the whole pipeline in bench/pipeline.ts.
//   node --expose-gc bench/ledger.ts
import { cpus } from 'node:os';
import { Ledger } from '../proxy/src/accounts/ledger.ts';
import { UsageRegistry } from '../proxy/src/accounts/usage.ts';
import { ManualClock } from '../proxy/src/clock.ts';
import type { AccountRules } from '../proxy/src/rules/types.ts';
import { Metrics } from '../proxy/src/metrics.ts';

const ACCOUNTS = 10_000;
const ACTIVE = 1_000;
const PASSES = 60;

const accounts: AccountRules[] = Array.from({ length: ACCOUNTS }, (_, i) => ({
  id: `acct-${i}`,
  owner: 'bench',
  team: 'bench',
  scenario: 'benchmark',
  class: 'order',
  keySha256: null,
  quota: null,
  burst: 0,
  routes: null,
}));
const clock = new ManualClock(0);
const usage = new UsageRegistry(clock, { wallOffsetMs: Date.UTC(2026, 0, 1) });
usage.define({ auth: 'trust', unknown: 'reject', unknownQuota: null, unknownBurst: 0, enforceRoutes: false, accounts, identity: [{ kind: 'ip' }] });
const metrics = new Metrics({ defaultMetrics: false });
const ledger = new Ledger(usage, { identitiesGauge: metrics.accountIdentities });
const gc = (globalThis as { gc?: () => void }).gc;
// Names made once, so the bench's own garbage does not count against the ledger.
const ids = accounts.map((a) => a.id);
const apps = ['app-0', 'app-1', 'app-2', 'app-3'];

function pass(active: number): number {
  for (let i = 0; i < active; i++) {
    const u = usage.of(ids[i]);
    for (let r = 0; r < 20; r++) {
      u.seen(clock.now(), '10.0.0.1');
      u.identify(apps[(i + r) % 4]);
      u.route('GET /members/*');
    }
  }
  clock.advance(1000);
  const started = performance.now();
  ledger.flush();
  return performance.now() - started;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

pass(ACCOUNTS); // every account seen once: cursors and day records exist
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const idle: number[] = [];
const busy: number[] = [];
for (let i = 0; i < PASSES; i++) idle.push(pass(0));
for (let i = 0; i < PASSES; i++) busy.push(pass(ACTIVE));
gc?.();
const heapAfter = process.memoryUsage().heapUsed;
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}`);
console.log(`ledger pass over ${ACCOUNTS} accounts, all idle: p50 ${percentile(idle, 50).toFixed(2)} ms, p99 ${percentile(idle, 99).toFixed(2)} ms`);
console.log(
  `ledger pass with ${ACTIVE} accounts called (20 requests, 4 identities each): p50 ${percentile(busy, 50).toFixed(2)} ms, p99 ${percentile(busy, 99).toFixed(2)} ms`,
);
console.log(`heap for a day of ${ACCOUNTS} accounts' ledgers: ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB more than after the first pass (${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1)} MiB in all)`);
