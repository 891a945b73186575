// `npm run bench:memory-limit`: the loaded sidecar (10 000 accounts, 100 000 hot keys) and the plain
// peer, each inside a memory cgroup with the kit's limit (256 MiB by default), under the loaded mix.
// In a pod Node sizes its heap from the limit, so V8 leaves far less room above the live heap than
// on a host without one (bench/README.md, "Where the loaded sidecar's memory goes"). Needs root for
// the cgroup; says so and exits 0 where it cannot make one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exited, installCleanup, readyLine, spawnChild, stopAll, stopChild, waitUntil, freePort, type Child } from './children.ts';
import { primeCompileCache, shareCompileCache } from './compile-cache.ts';
import { LoadGenerator } from './load-generator.ts';
import { createMemoryCgroup, inCgroup, type MemoryCgroup } from './memory-cgroup.ts';
import { rssKiB } from './proc.ts';
import { hotKeysTracked } from './sluice-metrics.ts';
import { spread } from './report.ts';
import { LOADED_MIX, renderLoadedRules, type BenchContext } from './variants.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);

const { values } = parseArgs({
  options: {
    'limit-mib': { type: 'string', default: '256' },
    duration: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '50' },
    // The image's ENTRYPOINT flags (Dockerfile), for both processes.
    'node-flags': { type: 'string', default: '--max-semi-space-size=4' },
  },
});
const limitMiB = Number(values['limit-mib']);
const durationS = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const nodeFlags = (values['node-flags'] ?? '').split(/\s+/).filter((f) => f !== '');
/** Accounts per rules file: one 2.2 MiB file takes ~230 MiB to parse, more than the pod has. */
const RULES_FILES = 10;

interface Run {
  /** RSS sampled every second of the measured load, MiB: median and max. */
  readonly rssMedian: number;
  readonly rssMax: number;
  readonly rps: number;
  readonly failed: number;
  readonly oomKills: number;
  readonly alive: boolean;
}

interface Started {
  readonly child: Child;
  readonly url: string;
  readonly adminUrl: string | null;
}

async function startPlain(ctx: BenchContext, group: MemoryCgroup): Promise<Started> {
  const [command, args] = inCgroup(group, process.execPath, [...nodeFlags, join(benchDir, 'plain-proxy.ts'), `http://127.0.0.1:${ctx.upstreamPort}`]);
  const child = spawnChild('plain-proxy', command, args, { logDir: ctx.tmpDir, ownChild: true });
  const ready = await readyLine(child, 20_000);
  return { child, url: `http://127.0.0.1:${String(ready.port)}`, adminUrl: null };
}

async function startLoaded(ctx: BenchContext, group: MemoryCgroup, rules: string): Promise<Started> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const [command, args] = inCgroup(group, process.execPath, [...nodeFlags, join(root, 'bin', 'sluice.js'), 'start', '--rules', rules,
    '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`]);
  const child = spawnChild('sluice-loaded', command, args, { logDir: ctx.tmpDir });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitUntil(child, 'ready (GET /readyz = 200)', async () => (await fetch(`${adminUrl}/readyz`)).status === 200, 60_000);
  return { child, url: `http://127.0.0.1:${port}`, adminUrl };
}

/** Load until the hot-key table holds (nearly) every id; answers the seconds it took. */
async function fill(load: LoadGenerator, started: Started): Promise<number> {
  let seconds = 0;
  while (seconds < 120) {
    await load.run(started.url, connections, 5, LOADED_MIX);
    seconds += 5;
    if (started.adminUrl === null || ((await hotKeysTracked(started.adminUrl)) ?? 0) >= LOADED_MIX.ids * 0.99) break;
  }
  return seconds;
}

async function measure(load: LoadGenerator, started: Started, group: MemoryCgroup): Promise<Run> {
  const samples: number[] = [];
  const sampler = setInterval(() => {
    const kib = rssKiB([started.child.pid]);
    if (kib > 0) samples.push(kib / 1024);
  }, 1000);
  const result = await load.run(started.url, connections, durationS, LOADED_MIX).finally(() => clearInterval(sampler));
  samples.sort((a, b) => a - b);
  return {
    rssMedian: samples[samples.length >> 1] ?? 0,
    rssMax: samples.at(-1) ?? 0,
    rps: result.rps,
    failed: result.errors + result.timeouts + result.non2xx,
    oomKills: group.oomKills(),
    alive: !exited(started.child),
  };
}

function range(values: readonly number[], digits = 0): string {
  const s = spread(values);
  return s === null ? '—' : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

function ratioRange(values: readonly number[]): string {
  const s = spread(values);
  return s === null ? '—' : `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
}

async function main(): Promise<void> {
  installCleanup();
  const probe = createMemoryCgroup(`sluice-bench-probe-${process.pid}`, limitMiB * 2 ** 20);
  if (typeof probe === 'string') {
    process.stdout.write(`bench:memory-limit skipped: ${probe}\n`);
    return;
  }
  probe.remove();
  const tmpDir = mkdtempSync(join(tmpdir(), 'sluice-bench-limit-'));
  shareCompileCache(tmpDir);
  process.env.MALLOC_ARENA_MAX ??= '2';
  primeCompileCache(root, nodeFlags);
  const upstream = spawnChild('upstream', process.execPath, [join(benchDir, 'upstream.ts')], { logDir: tmpDir, ownChild: true });
  const ctx: BenchContext = {
    root, benchDir, tmpDir, upstreamPort: Number((await readyLine(upstream, 10_000)).port), nodeFlags, readyTimeoutMs: 60_000,
  };
  const rules = renderLoadedRules(ctx, RULES_FILES);
  const load = await LoadGenerator.start(tmpDir);
  const runs = { 'plain-proxy': [] as Run[], 'sluice-loaded': [] as Run[] };
  try {
    for (let round = 1; round <= rounds; round++) {
      // The sidecar first: the peer then gets as many seconds of the same load before its measurement.
      let fillS = 0;
      for (const name of ['sluice-loaded', 'plain-proxy'] as const) {
        const group = createMemoryCgroup(`sluice-bench-${process.pid}-${name}-${round}`, limitMiB * 2 ** 20);
        if (typeof group === 'string') throw new Error(group);
        try {
          const started = name === 'sluice-loaded' ? await startLoaded(ctx, group, rules) : await startPlain(ctx, group);
          if (name === 'sluice-loaded') fillS = await fill(load, started);
          else await load.run(started.url, connections, fillS, LOADED_MIX);
          const run = await measure(load, started, group);
          runs[name].push(run);
          process.stdout.write(`round ${round}/${rounds} ${name.padEnd(14)} limit ${limitMiB} MiB  RSS median ${run.rssMedian.toFixed(0)} max ${run.rssMax.toFixed(0)} MiB  `
            + `${run.rps.toFixed(0)} req/s  ${run.failed} failed  ${run.oomKills} OOM kills${run.alive ? '' : '  EXITED'}\n`);
          await stopChild(started.child);
        } finally {
          group.remove();
        }
      }
    }
  } finally {
    await load.stop();
    await stopAll();
  }
  const plain = runs['plain-proxy'];
  const loaded = runs['sluice-loaded'];
  const ratios = loaded.map((r, i) => r.rssMedian / plain[i].rssMedian);
  const lines = [
    `Memory limit ${limitMiB} MiB (a memory cgroup each), ${connections} connections walking ${LOADED_MIX.accounts} accounts × ${LOADED_MIX.ids} ids, `
      + `${durationS} s measured after the fill, ${rounds} round${rounds === 1 ? '' : 's'}; node ${process.version}, flags ${nodeFlags.join(' ') || 'none'}; medians (min–max across rounds).`,
    '',
    '| variant | RSS median MiB | RSS max MiB | RSS ×plain | req/s | failed | OOM kills |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...(['plain-proxy', 'sluice-loaded'] as const).map((name) => {
      const r = runs[name];
      const ratio = name === 'plain-proxy' ? '1.00×' : ratioRange(ratios);
      return `| ${name} | ${range(r.map((x) => x.rssMedian))} | ${range(r.map((x) => x.rssMax))} | ${ratio} | ${range(r.map((x) => x.rps))} `
        + `| ${r.reduce((n, x) => n + x.failed, 0)} | ${r.reduce((n, x) => n + x.oomKills, 0)} |`;
    }),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  writeFileSync(join(benchDir, 'results', 'memory-limit.md'), `${lines.join('\n')}\n`);
  process.stdout.write('wrote bench/results/memory-limit.md\n');
  rmSync(tmpDir, { recursive: true, force: true });
  if ([...plain, ...loaded].some((r) => !r.alive || r.oomKills > 0)) process.exitCode = 1;
}

await main();
