// `npm run soak`: a long run of mixed traffic against one sidecar process on a real redis-server,
// with rules reloads, Redis restarts and rejections of every kind, sampling the sidecar's RSS and
// heap every 10 s and telling at the end whether they stayed flat. A benchmark, not a test:
// default 10 minutes, `--seconds N` for a shorter run, `--rate N` requests/s (default 400).
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { metricsText, metricValue } from '../proxy/test/helpers/admin.ts';
import { startRedis } from '../proxy/test/helpers/redis.ts';
import { startSidecar } from '../proxy/test/helpers/sidecar-process.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '600' }, rate: { type: 'string', default: '400' } } });
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
if (!(SECONDS >= 30) || !(RATE > 0)) throw new Error('--seconds must be at least 30 and --rate positive');
const SAMPLE_MS = 10_000;
const RELOAD_EVERY_MS = 30_000;
const REDIS_RESTART_EVERY_MS = 60_000;
const CONNECTIONS = 16;

function rules(upstream: number, redisUrl: string, generation: number): string {
  // Each generation changes campaign's quota a little: a real reload of a changed rule.
  return `version: 1
server: { headers_timeout: 10s, max_headers: 100 }
store: { kind: redis, url: "${redisUrl}", on_failure: local, instances: 2 }
clusters:
  primary:   { endpoints: ["http://127.0.0.1:${upstream}"], timeout: 1s }
  marketing: { endpoints: ["http://127.0.0.1:${upstream}"], timeout: 1s }
classes:
  order:     { cluster: primary }
  marketing: { cluster: marketing, failover: none, max_share: 0.5 }
callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Order flow, class: order, quota: 100000/s, burst: 10000 }
    - { id: campaign, owner: Zhang Min, team: growth, scenario: Flash-sale lookups, class: marketing, quota: ${40 + (generation % 3) * 5}/s, burst: 5 }
limits:
  global: { rate: 100000/s, scope: fleet }
  hot_keys:
    - { name: member-id, key: "path:/members/{id}", rate: 20/s, burst: 5, track: 10000 }
`;
}

interface Sample {
  readonly atS: number;
  readonly rssMiB: number;
  readonly heapMiB: number;
  readonly sent: number;
  readonly byStatus: Record<string, number>;
  readonly failures: number;
}

async function main(): Promise<void> {
  const upstream = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":"42","level":"gold"}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
  const upstreamPort = (upstream.address() as { port: number }).port;
  const redis = await startRedis();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-soak-'));
  let generation = 0;
  const writeRules = async (): Promise<void> => {
    const aside = join(dir, '.rules.yaml.next');
    await writeFile(aside, rules(upstreamPort, redis.url, generation++));
    await rename(aside, join(dir, 'rules.yaml'));
  };
  await writeRules();
  const sidecar = await startSidecar(dir);
  const pool = new Pool(sidecar.url, { connections: CONNECTIONS, pipelining: 1 });
  console.log(`soak: ${SECONDS} s at ${RATE} requests/s over ${CONNECTIONS} connections; reload every ${RELOAD_EVERY_MS / 1000} s, Redis restart every ${REDIS_RESTART_EVERY_MS / 1000} s`);
  console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, sidecar pid ${sidecar.child.pid}`);

  const byStatus: Record<string, number> = {};
  let sent = 0;
  let failures = 0;
  let running = true;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const interval = (1000 * CONNECTIONS) / RATE;
  // Mixed callers: order flow on many ids, a campaign over its quota, a hot member id, strangers.
  const pick = (i: number): { path: string; account: string } => {
    const r = i % 20;
    if (r < 13) return { path: `/members/${(i * 7919) % 200_000}`, account: 'order-center' };
    if (r < 17) return { path: `/members/${(i * 104_729) % 50_000}/level`, account: 'campaign' };
    if (r < 19) return { path: '/members/10086', account: 'order-center' };
    return { path: `/members/${i}`, account: `stranger-${i % 1000}` };
  };
  const worker = async (): Promise<void> => {
    let next = performance.now();
    while (running && performance.now() < deadline) {
      const { path, account } = pick(sent++);
      try {
        const res = await pool.request({ path, method: 'GET', headers: { 'x-caller-account': account } });
        await res.body.dump();
        byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
      } catch {
        failures++;
      }
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await delay(wait);
      else next = performance.now();
    }
  };
  const workers = Array.from({ length: CONNECTIONS }, worker);

  const chores = (async () => {
    let lastReload = performance.now();
    let lastRestart = performance.now();
    while (running && performance.now() < deadline) {
      await delay(500);
      const now = performance.now();
      if (now - lastReload >= RELOAD_EVERY_MS) {
        lastReload = now;
        await writeRules();
      }
      if (now - lastRestart >= REDIS_RESTART_EVERY_MS) {
        lastRestart = now;
        await redis.restart();
      }
    }
  })();

  const samples: Sample[] = [];
  const sample = async (): Promise<void> => {
    const text = await metricsText(sidecar);
    const s: Sample = {
      atS: Math.round((performance.now() - started) / 1000),
      rssMiB: +((metricValue(text, 'process_resident_memory_bytes') ?? 0) / 2 ** 20).toFixed(1),
      heapMiB: +((metricValue(text, 'nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20).toFixed(1),
      sent,
      byStatus: { ...byStatus },
      failures,
    };
    samples.push(s);
    console.log(`${String(s.atS).padStart(5)} s  rss ${s.rssMiB.toFixed(1).padStart(6)} MiB  heap ${s.heapMiB.toFixed(1).padStart(6)} MiB  sent ${s.sent}  ${JSON.stringify(s.byStatus)}  failures ${s.failures}`);
  };
  while (performance.now() < deadline) {
    await delay(Math.min(SAMPLE_MS, Math.max(0, deadline - performance.now())));
    await sample();
  }
  running = false;
  await Promise.all(workers);
  await chores;
  await pool.close();
  await sidecar.stop();
  await redis.stop();
  upstream.close();
  await rm(dir, { recursive: true, force: true });
  verdict(samples, generation - 1);
}

/**
 * Flat: after the first minute (warm-up: JIT, pools, tables filling to their bounds), the lowest
 * sample of the last third is within 10% (or 16 MiB) of the lowest of the first third. The lows
 * are what survives the garbage collector; between them the heap saws up and down by tens of
 * MiB (a major GC every minute or two), which makes means and the least-squares slope (printed
 * too) noisy over short runs.
 */
function verdict(samples: readonly Sample[], reloads: number): void {
  const settled = samples.filter((s) => s.atS >= 60);
  const use = settled.length >= 6 ? settled : samples.slice(Math.floor(samples.length / 3));
  const third = Math.max(1, Math.floor(use.length / 3));
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const slopePerMin = (key: 'rssMiB' | 'heapMiB') => {
    const xs = use.map((s) => s.atS / 60);
    const ys = use.map((s) => s[key]);
    const mx = mean(xs);
    const my = mean(ys);
    const num = xs.reduce((acc, x, i) => acc + (x - mx) * (ys[i] - my), 0);
    const den = xs.reduce((acc, x) => acc + (x - mx) ** 2, 0);
    return den === 0 ? 0 : num / den;
  };
  const last = samples.at(-1);
  const judge = (key: 'rssMiB' | 'heapMiB') => {
    const head = use.slice(0, third).map((s) => s[key]);
    const tail = use.slice(-third).map((s) => s[key]);
    const first = Math.min(...head);
    const end = Math.min(...tail);
    const flat = end - first <= Math.max(16, 0.1 * first);
    return {
      first: +first.toFixed(1),
      last: +end.toFixed(1),
      meanFirst: +mean(head).toFixed(1),
      meanLast: +mean(tail).toFixed(1),
      max: +Math.max(...use.map((s) => s[key])).toFixed(1),
      slopeMiBPerMin: +slopePerMin(key).toFixed(2),
      flat,
    };
  };
  const rss = judge('rssMiB');
  const heap = judge('heapMiB');
  console.log(JSON.stringify({ seconds: last?.atS, sent: last?.sent, byStatus: last?.byStatus, failures: last?.failures, reloads, rss, heap }));
  console.log(`RSS ${rss.flat ? 'flat' : 'GROWING'} (lows ${rss.first} → ${rss.last} MiB, peak ${rss.max}); heap ${heap.flat ? 'flat' : 'GROWING'} (lows ${heap.first} → ${heap.last} MiB, peak ${heap.max})`);
  if (!rss.flat || !heap.flat) process.exitCode = 1;
}

await main();
