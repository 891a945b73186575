// `npm run bench`: a fixed upstream, then every variant under the same load, side by side.
// Servers are started once and warmed up; measured runs interleave the variants over several
// rounds (rotating the order) so a noisy neighbour hurts all variants alike; medians are reported
// with min–max. See bench/README.md.
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import {
  spawnChild, readyLine, installCleanup, stopAll, stopChild, runningChildren, logTail, exited, type Child,
} from './children.ts';
import { cpuMicros, processTree, rssKiB, CLK_TCK } from './proc.ts';
import { variants, SkipVariant, type BenchContext, type Target, type Variant } from './variants.ts';
import {
  summarize, summarizeOpenLoop, markdownTable, openLoopTable, storeComparison, goalLines, type Measurement, type OpenLoopMeasurement,
} from './report.ts';
import { commandCounts, commandDelta, splitCalls } from './redis.ts';
import { options, type Options } from './options.ts';
import { LoadGenerator, requestHeaders } from './load-generator.ts';
import { primeCompileCache, shareCompileCache } from './compile-cache.ts';
import { hotKeysTracked } from './sluice-metrics.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);

interface Running {
  readonly variant: Variant;
  readonly name: string;
  readonly description: string;
  target: Target | null;
  skipped: string | null;
  /** Set when the proxy died during warmup or a measured run. */
  failed: string | null;
  readonly runs: Measurement[];
  readonly openRuns: OpenLoopMeasurement[];
  /** Diagnostics kept in the results (e.g. rejection counters when something was refused). */
  readonly notes: string[];
}

function oneLine(text: string, max = 400): string {
  return text.split('\n').filter((l) => l.trim() !== '').join(' | ').slice(0, max);
}

/** True while the variant can still be measured; records why not otherwise. */
function alive(running: Running, when: string): boolean {
  const proxy = running.target?.proxy ?? null;
  if (running.failed !== null) return false;
  if (proxy === null || !exited(proxy)) return true;
  running.failed = `proxy exited ${when}: ${oneLine(logTail(proxy, 6))}`;
  process.stdout.write(`FAILED ${running.name}: proxy exited ${when}\n${logTail(proxy)}\n`);
  return false;
}

/** One bench request; null when it answered 200, or why not. */
async function benchRequest(url: string): Promise<string | null> {
  const res = await fetch(url, { headers: requestHeaders, signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  return res.status === 200 ? null : `a bench request answered ${res.status}, not 200: ${body.slice(0, 200)}`;
}

/**
 * Until a bench request runs a script on Redis. sluice is ready before its store is connected
 * (it enforces with its local fallback meanwhile), and the fallback must not be measured as Redis.
 */
async function storeInUse(url: string, ports: readonly number[], timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const before = await commandCounts(ports);
    const problem = await benchRequest(url);
    if (problem !== null) return problem;
    if (Object.keys(commandDelta(before, await commandCounts(ports))).some((c) => c.startsWith('eval'))) return null;
    if (Date.now() > deadline) return `no bench request ran a script on Redis within ${timeoutMs} ms: the store is not in use`;
    await pause(100);
  }
}

/** The bench request must be admitted, and a variant with guards must refuse what it should. */
async function sanityCheck(variant: Variant, target: Target, timeoutMs: number): Promise<string | null> {
  const url = `${target.url}/members/100001`;
  const problem = target.redisPorts === undefined ? await benchRequest(url) : await storeInUse(url, target.redisPorts, timeoutMs);
  if (problem !== null) return problem;
  if (variant.refuses === undefined) return null;
  const refused = await fetch(url, { headers: variant.refuses.headers, signal: AbortSignal.timeout(5000) });
  await refused.arrayBuffer();
  return refused.status === variant.refuses.status
    ? null
    : `guards not in force: a request with ${JSON.stringify(variant.refuses.headers)} answered ${refused.status}, not ${variant.refuses.status}`;
}

function conditions(opts: Options, bodyBytes: number): Record<string, unknown> {
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    commit = null;
  }
  const autocannonVersion = (JSON.parse(readFileSync(join(root, 'node_modules', 'autocannon', 'package.json'), 'utf8')) as { version: string }).version;
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    nproc: cpus().length,
    loadavg_at_start: loadavg().map((l) => Number(l.toFixed(2))),
    connections: opts.connections,
    duration_s: opts.durationS,
    warmup_s: opts.warmupS,
    rounds: opts.rounds,
    node_flags: opts.nodeFlags.join(' '),
    compile_cache: 'one NODE_COMPILE_CACHE for every Node process, primed before the first start',
    malloc_arena_max: process.env.MALLOC_ARENA_MAX ?? 'unset',
    load_generator: `autocannon ${autocannonVersion}, one process, pipelining 1, 1000 member ids`,
    upstream_body_bytes: bodyBytes,
    clk_tck: CLK_TCK,
    commit,
    quick: opts.quick,
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function measure(load: LoadGenerator, running: Running, upstream: Child, opts: Options, round: number): Promise<Measurement> {
  const target = running.target as Target;
  const proxyTree = target.proxy === null ? [] : processTree(target.proxy.pid);
  const helperTree = target.helpers.flatMap((h) => processTree(h.pid));
  const ports = target.redisPorts ?? [];
  // Read outside the CPU window, so the bench's own INFO is not charged to redis-server.
  const redisBefore = ports.length === 0 ? null : await commandCounts(ports);
  const before = { proxy: cpuMicros(proxyTree), upstream: cpuMicros([upstream.pid]), helpers: cpuMicros(helperTree) };
  const result = await load.run(target.url, opts.connections, opts.durationS, running.variant.mix);
  const after = { proxy: cpuMicros(proxyTree), upstream: cpuMicros([upstream.pid]), helpers: cpuMicros(helperTree) };
  const redisCommands = redisBefore === null ? null : commandDelta(redisBefore, await commandCounts(ports));
  const redisCalls = redisCommands === null ? null : splitCalls(redisCommands);
  if (result.responses === 0) {
    process.stdout.write(`WARNING: ${running.name} answered nothing in round ${round} (stalled?)`
      + `${target.proxy === null ? '' : `\n${logTail(target.proxy)}`}\n`);
  }
  const n = result.responses;
  const perRequest = (us: number): number | null => (n === 0 ? null : us / n);
  return {
    round,
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    responses: result.responses,
    ok2xx: result.ok2xx,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.durationS,
    proxyCpuUsPerReq: target.proxy === null ? null : perRequest(after.proxy - before.proxy),
    upstreamCpuUsPerReq: perRequest(after.upstream - before.upstream),
    helperCpuUsPerReq: helperTree.length === 0 ? null : perRequest(after.helpers - before.helpers),
    redisCallsPerReq: redisCalls === null ? null : perRequest(redisCalls.sent),
    redisScriptCallsPerReq: redisCalls === null ? null : perRequest(redisCalls.inScripts),
    redisCommands,
    proxyRssMiB: target.proxy === null ? null : rssKiB(proxyTree) / 1024,
    hotKeysTracked: target.adminUrl === undefined ? null : await hotKeysTracked(target.adminUrl),
    statusCodes: result.statusCodes,
  };
}

/** sluice_hot_keys_tracked summed over its rules, from the admin /metrics; null when unreadable. */
/** One open-loop run: the schedule's latencies plus the proxy's CPU per answered request. */
async function measureOpen(load: LoadGenerator, running: Running, opts: Options, round: number): Promise<OpenLoopMeasurement> {
  const target = running.target as Target;
  const proxyTree = target.proxy === null ? [] : processTree(target.proxy.pid);
  const before = cpuMicros(proxyTree);
  const result = await load.runOpen(target.url, opts.openRate, opts.openDurationS, opts.connections);
  const cpu = cpuMicros(proxyTree) - before;
  const { type: _type, ...figures } = result;
  return { ...figures, round, rate: opts.openRate, proxyCpuUsPerReq: target.proxy === null || result.ok2xx === 0 ? null : cpu / result.ok2xx };
}

/**
 * A variant with a request mix starts with its tables empty: load it until its hot-key table
 * holds (nearly) every id of the mix, or 90 s have passed.
 */
async function fill(load: LoadGenerator, running: Running, opts: Options): Promise<void> {
  const mix = running.variant.mix;
  const target = running.target as Target;
  if (mix === undefined || target.adminUrl === undefined) return;
  const deadline = Date.now() + 90_000;
  let tracked: number | null = 0;
  while (Date.now() < deadline) {
    await load.run(target.url, opts.connections, 2, mix);
    tracked = await hotKeysTracked(target.adminUrl);
    if (tracked !== null && tracked >= mix.ids * 0.99) break;
  }
  process.stdout.write(`filled ${running.name}: ${tracked ?? '?'} hot keys tracked (${mix.ids} ids, ${mix.accounts} accounts)\n`);
}

async function main(): Promise<void> {
  installCleanup();
  const opts = options();
  const tmpDir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  shareCompileCache(tmpDir);
  // As the image runs them (Dockerfile): V8's compiler threads share two malloc arenas.
  process.env.MALLOC_ARENA_MAX ??= '2';
  primeCompileCache(root, opts.nodeFlags);
  const upstream = spawnChild('upstream', process.execPath, [...opts.nodeFlags, join(benchDir, 'upstream.ts')], { logDir: tmpDir, ownChild: true });
  const upstreamReady = await readyLine(upstream, 10_000);
  const ctx: BenchContext = {
    root, benchDir, tmpDir, upstreamPort: Number(upstreamReady.port), nodeFlags: opts.nodeFlags, readyTimeoutMs: 20_000,
  };
  const cond = conditions(opts, Number(upstreamReady.bodyBytes));
  process.stdout.write(`sluice bench — conditions\n${Object.entries(cond).map(([k, v]) => `  ${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`).join('\n')}\n  logs: ${tmpDir}\n\n`);

  const load = await LoadGenerator.start(tmpDir);
  const selected = variants.filter((v) => opts.only === null || opts.only.includes(v.name));
  const all: Running[] = selected.map((v) => ({ variant: v, name: v.name, description: v.description, target: null, skipped: null, failed: null, runs: [], openRuns: [], notes: [] }));

  for (const [i, variant] of selected.entries()) {
    const running = all[i];
    const before = runningChildren();
    try {
      running.target = await variant.start(ctx);
      const problem = await sanityCheck(variant, running.target, ctx.readyTimeoutMs);
      if (problem !== null) throw new SkipVariant(problem);
      process.stdout.write(`started ${variant.name} at ${running.target.url}${running.target.proxy === null ? '' : ` (pid ${running.target.proxy.pid})`}\n`);
    } catch (err) {
      if (!(err instanceof SkipVariant)) throw err;
      running.skipped = oneLine(err.message);
      running.target = null;
      process.stdout.write(`SKIPPED ${variant.name}: ${err.message}\n`);
      for (const child of runningChildren()) if (!before.has(child)) await stopChild(child);
    }
  }
  const active = all.filter((r) => r.target !== null);

  for (const running of active) {
    await fill(load, running, opts);
    process.stdout.write(`warming up ${running.name} (${opts.warmupS} s)\n`);
    await load.run((running.target as Target).url, opts.connections, opts.warmupS, running.variant.mix);
    alive(running, 'during warmup');
    await pause(300);
  }

  for (let round = 1; round <= opts.rounds; round++) {
    // Rotate the order each round so no variant always runs first or right after another.
    const order = active.map((_, i) => active[(i + round - 1) % active.length]);
    for (const running of order) {
      if (!alive(running, `before round ${round}`)) continue;
      const m = await measure(load, running, upstream, opts, round);
      if (!alive(running, `during round ${round}`)) continue;
      running.runs.push(m);
      process.stdout.write(`round ${round}/${opts.rounds} ${running.name.padEnd(20)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms`
        + `${m.proxyCpuUsPerReq === null ? '' : `  proxy ${m.proxyCpuUsPerReq.toFixed(1)} µs/req`}`
        + `${m.helperCpuUsPerReq === null ? '' : `  redis ${m.helperCpuUsPerReq.toFixed(1)} µs/req`}`
        + `${m.redisCallsPerReq === null ? '' : `  ${m.redisCallsPerReq.toFixed(3)} redis calls/req`}`
        + `${m.upstreamCpuUsPerReq === null ? '' : `  upstream ${m.upstreamCpuUsPerReq.toFixed(1)} µs/req`}`
        + `${m.errors + m.timeouts + m.non2xx > 0 ? `  errors ${m.errors + m.timeouts} non2xx ${m.non2xx} ${JSON.stringify(m.statusCodes)}` : ''}\n`);
      await pause(300);
    }
  }

  // Open loop: the same schedule for each chosen variant, interleaved over rounds as above.
  const openActive = active.filter((r) => opts.openLoop.includes(r.name));
  for (let round = 1; round <= opts.rounds && opts.openDurationS > 0; round++) {
    const order = openActive.map((_, i) => openActive[(i + round - 1) % openActive.length]);
    for (const running of order) {
      if (!alive(running, `before open-loop round ${round}`)) continue;
      const m = await measureOpen(load, running, opts, round);
      if (!alive(running, `during open-loop round ${round}`)) continue;
      running.openRuns.push(m);
      process.stdout.write(`open loop ${round}/${opts.rounds} ${running.name.padEnd(20)} ${opts.openRate} req/s  p50 ${m.p50Ms.toFixed(3)} ms  p99 ${m.p99Ms.toFixed(3)} ms`
        + `  p99.9 ${m.p999Ms.toFixed(3)} ms  max ${m.maxMs.toFixed(1)} ms${m.proxyCpuUsPerReq === null ? '' : `  proxy ${m.proxyCpuUsPerReq.toFixed(1)} µs/req`}`
        + `${m.errors + m.non2xx > 0 ? `  errors ${m.errors} non2xx ${m.non2xx}` : ''}${m.lateSends > 0 ? `  late sends ${m.lateSends}` : ''}\n`);
      await pause(300);
    }
  }

  // Nothing should be refused in the bench: when something was, say why from sluice's own metrics.
  for (const running of active) {
    const target = running.target as Target;
    if (target.adminUrl === undefined || !running.runs.some((r) => r.non2xx > 0)) continue;
    const metrics = await fetch(`${target.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })
      .then((res) => res.text()).catch((err: unknown) => `metrics unavailable: ${String(err)}`);
    const rejections = metrics.split('\n').filter((l) => /^sluice_(rejections|shadow_rejections)_total\{/.test(l));
    process.stdout.write(`${running.name} answered non-2xx; its rejection counters:\n${rejections.join('\n') || '(none)'}\n`);
    running.notes.push(...rejections);
  }
  await load.stop();
  await stopAll();

  const summaries = summarize(all);
  const table = markdownTable(summaries);
  const openSummaries = summarizeOpenLoop(openActive.map((r) => ({ name: r.name, runs: r.openRuns })));
  const openTable = openSummaries.length === 0 ? '' : openLoopTable(openSummaries);
  const goals = goalLines(summaries, openSummaries);
  const goal = goals.join('\n');
  const comparison = storeComparison(summaries);
  const skippedNotes = [
    ...summaries.filter((s) => s.skipped !== null).map((s) => `- ${s.name} skipped: ${s.skipped}`),
    ...summaries.filter((s) => s.failed !== null).map((s) => `- ${s.name} FAILED: ${s.failed}`),
    ...summaries.filter((s) => s.notes.length > 0).map((s) => `- ${s.name} refused requests: ${s.notes.join('; ')}`),
  ];
  const md = [
    `# sluice bench${opts.quick ? ' (quick smoke run)' : ''}`,
    '',
    ...Object.entries(cond).map(([k, v]) => `- ${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`),
    '',
    table,
    '',
    ...(openTable === '' ? [] : [`Open loop: ${opts.openRate} arrivals/s on a fixed schedule for ${opts.openDurationS} s per run, latency from each scheduled send time.`, '', openTable, '']),
    `Medians over ${opts.rounds} round(s), (min–max) when they differ; ratios are taken within each round, then summarized.`,
    '',
    ...goals.map((g) => `- ${g}`),
    '',
    ...comparison,
    ...(skippedNotes.length > 0 ? ['', ...skippedNotes] : []),
    '',
    ...summaries.map((s) => `- **${s.name}**: ${s.description}`),
    '',
  ].join('\n');
  process.stdout.write(`\n${table}\n\n${openTable === '' ? '' : `${openTable}\n\n`}${[goal, ...comparison, ...skippedNotes].join('\n')}\n`);

  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const base = opts.quick ? 'quick' : 'latest';
  writeFileSync(join(resultsDir, `${base}.json`), JSON.stringify({ conditions: cond, goals, storeComparison: comparison, variants: summaries, openLoop: openSummaries }, null, 2) + '\n');
  writeFileSync(join(resultsDir, `${base}.md`), md);
  process.stdout.write(`wrote bench/results/${base}.json and bench/results/${base}.md\n`);
  rmSync(tmpDir, { recursive: true, force: true });
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
