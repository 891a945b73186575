// Summaries of the measured runs (median with min–max over rounds) and their Markdown rendering.
import type { LoadResult } from './load.ts';
import { LATE_MS, type OpenLoopResult } from './open-loop.ts';

/** One measured run of one variant. */
export interface Measurement extends Omit<LoadResult, 'type'> {
  readonly round: number;
  /** Proxy process tree CPU (user + system) per response; null for direct (and for a run with no response). */
  readonly proxyCpuUsPerReq: number | null;
  readonly upstreamCpuUsPerReq: number | null;
  /** CPU of the variant's helpers (e.g. redis-server) per response; null when it has none. */
  readonly helperCpuUsPerReq: number | null;
  /**
   * Commands sluice sent to Redis during the run (all nodes; EVALSHA and everything else, the
   * bench's own INFO and the commands run inside sluice's scripts left out) per response; null for
   * variants without Redis.
   */
  readonly redisCallsPerReq: number | null;
  /** Commands run inside sluice's Lua scripts (GET, SET, TIME, ...) per response: Redis work, no round trip. */
  readonly redisScriptCallsPerReq: number | null;
  /** Every command the nodes executed in the run, by name, summed over the nodes (bench's INFO left out). */
  readonly redisCommands: Readonly<Record<string, number>> | null;
  /** Proxy resident memory after the run, MiB; null for direct. */
  readonly proxyRssMiB: number | null;
  /** sluice_hot_keys_tracked summed over rules after the run (sluice variants), else null. */
  readonly hotKeysTracked: number | null;
}

/** One open-loop run of one variant. */
export interface OpenLoopMeasurement extends Omit<OpenLoopResult, 'type'> {
  readonly round: number;
  readonly rate: number;
  readonly proxyCpuUsPerReq: number | null;
}

export interface OpenLoopSummary {
  readonly name: string;
  readonly runs: readonly OpenLoopMeasurement[];
  readonly p50Ms: Spread | null;
  readonly p99Ms: Spread | null;
  readonly p999Ms: Spread | null;
  readonly maxMs: Spread | null;
  readonly proxyCpuUsPerReq: Spread | null;
  /** This variant's p99 minus plain-proxy's p99 of the same round, ms. */
  readonly p99OverPlainMs: Spread | null;
  /** Proxy CPU/request ÷ plain-proxy's of the same round. */
  readonly cpuRatioToPlain: Spread | null;
  readonly errors: number;
  readonly non2xx: number;
  readonly lateSends: number;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface VariantSummary {
  readonly name: string;
  readonly description: string;
  readonly skipped: string | null;
  readonly failed: string | null;
  readonly notes: readonly string[];
  readonly runs: readonly Measurement[];
  readonly rps: Spread | null;
  readonly p50Ms: Spread | null;
  readonly p99Ms: Spread | null;
  readonly proxyCpuUsPerReq: Spread | null;
  readonly upstreamCpuUsPerReq: Spread | null;
  readonly helperCpuUsPerReq: Spread | null;
  readonly redisCallsPerReq: Spread | null;
  readonly redisScriptCallsPerReq: Spread | null;
  readonly proxyRssMiB: Spread | null;
  readonly hotKeysTracked: Spread | null;
  /** Summed over rounds. */
  readonly errors: number;
  readonly non2xx: number;
  // Ratios are taken round by round (each round runs every variant once, interleaved), then
  // summarized as median (min–max) over rounds: a noisy round moves both sides of its ratio.
  readonly rpsRatioToDirect: Spread | null;
  readonly cpuRatioToPlain: Spread | null;
  readonly rssRatioToPlain: Spread | null;
  /** Against sluice-guards (same rules, memory store): what a shared store costs. */
  readonly rpsRatioToGuards: Spread | null;
  readonly cpuRatioToGuards: Spread | null;
  /** (proxy + helper CPU per request) ÷ sluice-guards' proxy CPU per request: Redis's own work included. */
  readonly totalCpuRatioToGuards: Spread | null;
}

export function spread(values: readonly (number | null)[]): Spread | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (present.length === 0) return null;
  const mid = present.length >> 1;
  const median = present.length % 2 === 1 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
  return { median, min: present[0], max: present[present.length - 1] };
}

export function summarize(
  variants: readonly { name: string; description: string; skipped: string | null; failed: string | null; notes: readonly string[]; runs: readonly Measurement[] }[],
): VariantSummary[] {
  const base = variants.map((v) => ({
    ...v,
    rps: spread(v.runs.map((r) => r.rps)),
    p50Ms: spread(v.runs.map((r) => r.p50Ms)),
    p99Ms: spread(v.runs.map((r) => r.p99Ms)),
    proxyCpuUsPerReq: spread(v.runs.map((r) => r.proxyCpuUsPerReq)),
    upstreamCpuUsPerReq: spread(v.runs.map((r) => r.upstreamCpuUsPerReq)),
    helperCpuUsPerReq: spread(v.runs.map((r) => r.helperCpuUsPerReq)),
    redisCallsPerReq: spread(v.runs.map((r) => r.redisCallsPerReq)),
    redisScriptCallsPerReq: spread(v.runs.map((r) => r.redisScriptCallsPerReq)),
    proxyRssMiB: spread(v.runs.map((r) => r.proxyRssMiB)),
    hotKeysTracked: spread(v.runs.map((r) => r.hotKeysTracked)),
    errors: v.runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    non2xx: v.runs.reduce((n, r) => n + r.non2xx, 0),
  }));
  const byName = (name: string) => base.find((v) => v.name === name)?.runs ?? [];
  const [direct, plain, guards] = [byName('direct'), byName('plain-proxy'), byName('sluice-guards')];
  return base.map((v) => ({
    ...v,
    rpsRatioToDirect: perRound(v.runs, direct, (r) => r.rps),
    cpuRatioToPlain: perRound(v.runs, plain, (r) => r.proxyCpuUsPerReq),
    rssRatioToPlain: perRound(v.runs, plain, (r) => r.proxyRssMiB),
    rpsRatioToGuards: perRound(v.runs, guards, (r) => r.rps),
    cpuRatioToGuards: perRound(v.runs, guards, (r) => r.proxyCpuUsPerReq),
    totalCpuRatioToGuards: perRound(v.runs, guards, (r) => r.proxyCpuUsPerReq, (r) => r.proxyCpuUsPerReq === null ? null : r.proxyCpuUsPerReq + (r.helperCpuUsPerReq ?? 0)),
  }));
}

/** value(run) ÷ value(reference run of the same round), over the rounds both have; median (min–max). */
function perRound<R extends { round: number }>(
  runs: readonly R[], reference: readonly R[], value: (r: R) => number | null, own: (r: R) => number | null = value,
): Spread | null {
  const ratios: number[] = [];
  for (const run of runs) {
    const ref = reference.find((r) => r.round === run.round);
    const [a, b] = [own(run), ref === undefined ? null : value(ref)];
    if (a !== null && b !== null && b > 0) ratios.push(a / b);
  }
  return spread(ratios);
}

export function summarizeOpenLoop(variants: readonly { name: string; runs: readonly OpenLoopMeasurement[] }[]): OpenLoopSummary[] {
  const plain = variants.find((v) => v.name === 'plain-proxy')?.runs ?? [];
  return variants.map((v) => {
    const over: number[] = [];
    for (const run of v.runs) {
      const ref = plain.find((r) => r.round === run.round);
      if (ref !== undefined) over.push(run.p99Ms - ref.p99Ms);
    }
    return {
      name: v.name,
      runs: v.runs,
      p50Ms: spread(v.runs.map((r) => r.p50Ms)),
      p99Ms: spread(v.runs.map((r) => r.p99Ms)),
      p999Ms: spread(v.runs.map((r) => r.p999Ms)),
      maxMs: spread(v.runs.map((r) => r.maxMs)),
      proxyCpuUsPerReq: spread(v.runs.map((r) => r.proxyCpuUsPerReq)),
      p99OverPlainMs: spread(over),
      cpuRatioToPlain: perRound(v.runs, plain, (r) => r.proxyCpuUsPerReq),
      errors: v.runs.reduce((n, r) => n + r.errors, 0),
      non2xx: v.runs.reduce((n, r) => n + r.non2xx, 0),
      lateSends: v.runs.reduce((n, r) => n + r.lateSends, 0),
    };
  });
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function cell(s: Spread | null, digits: number, withRange: boolean): string {
  if (s === null) return '—';
  const median = fixed(s.median, digits);
  return withRange && s.min !== s.max ? `${median} (${fixed(s.min, digits)}–${fixed(s.max, digits)})` : median;
}

function ratio(value: Spread | null): string {
  if (value === null) return '—';
  return value.min === value.max ? `${value.median.toFixed(2)}×` : `${value.median.toFixed(2)}× (${value.min.toFixed(2)}–${value.max.toFixed(2)})`;
}

export function markdownTable(summaries: readonly VariantSummary[]): string {
  const lines = [
    '| variant | req/s | ×direct | p50 ms | p99 ms | proxy CPU µs/req | ×plain | redis CPU µs/req | redis calls/req | proxy RSS MiB | RSS ×plain | upstream CPU µs/req | errors / non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of summaries) {
    if (v.skipped !== null || (v.failed !== null && v.runs.length === 0)) {
      lines.push(`| ${v.name} | ${v.skipped !== null ? 'skipped' : 'FAILED'} | | | | | | | | | | | |`);
      continue;
    }
    lines.push(`| ${v.name}${v.failed !== null ? ' (FAILED)' : ''} | ${cell(v.rps, 0, true)} | ${ratio(v.rpsRatioToDirect)} | ${cell(v.p50Ms, 2, true)} | ${cell(v.p99Ms, 2, true)} | `
      + `${cell(v.proxyCpuUsPerReq, 1, true)} | ${ratio(v.cpuRatioToPlain)} | ${cell(v.helperCpuUsPerReq, 1, true)} | ${cell(v.redisCallsPerReq, 3, true)} | `
      + `${cell(v.proxyRssMiB, 0, false)} | ${ratio(v.rssRatioToPlain)} | `
      + `${cell(v.upstreamCpuUsPerReq, 1, false)} | ${v.errors} / ${v.non2xx} |`);
  }
  return lines.join('\n');
}

export function openLoopTable(summaries: readonly OpenLoopSummary[]): string {
  const lines = [
    '| variant (open loop) | p50 ms | p99 ms | p99.9 ms | max ms | p99 − plain p99 ms | proxy CPU µs/req | ×plain | errors / non-2xx | late sends |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of summaries) {
    lines.push(`| ${v.name} | ${cell(v.p50Ms, 3, true)} | ${cell(v.p99Ms, 3, true)} | ${cell(v.p999Ms, 3, true)} | ${cell(v.maxMs, 1, true)} | `
      + `${cell(v.p99OverPlainMs, 3, true)} | ${cell(v.proxyCpuUsPerReq, 1, true)} | ${ratio(v.cpuRatioToPlain)} | ${v.errors} / ${v.non2xx} | ${v.lateSends} |`);
  }
  return lines.join('\n');
}

/** Each Redis variant against sluice-guards (same rules, memory store), one line each. */
export function storeComparison(summaries: readonly VariantSummary[]): string[] {
  if (!summaries.some((v) => v.name === 'sluice-guards' && v.rps !== null)) return [];
  return summaries.filter((v) => v.redisCallsPerReq !== null && v.rps !== null).map((v) =>
    `${v.name} ÷ sluice-guards (memory store): req/s ${ratio(v.rpsRatioToGuards)}, proxy CPU/req ${ratio(v.cpuRatioToGuards)}, `
    + `proxy + redis CPU/req ${ratio(v.totalCpuRatioToGuards)}; ${cell(v.redisCallsPerReq, 3, false)} redis calls/req, `
    + `${cell(v.helperCpuUsPerReq, 1, false)} µs redis-server CPU/req, ${cell(v.redisScriptCallsPerReq, 2, false)} commands/req run inside scripts.`);
}

/**
 * Whether a goal holds: in every round (min and max both), by the median only, or not at all.
 * On a shared machine one round can be far off; the range says how far to trust the median.
 */
function verdict(value: Spread | null, holds: (v: number) => boolean): string {
  if (value === null) return 'not measured';
  if (holds(value.min) && holds(value.max)) return 'met in every round';
  return holds(value.median) ? 'met by the median, not in every round' : 'NOT met';
}

/** Open-loop runs whose generator sent over 1% of its arrivals late (> LATE_MS) measured the machine, not the proxy. */
function openLoopVerdict(open: OpenLoopSummary | null, plain: OpenLoopSummary | null): string {
  const runs = [...(open?.runs ?? []), ...(plain?.runs ?? [])];
  const late = runs.filter((r) => r.lateSends > r.scheduled * 0.01).length;
  const base = verdict(open?.p99OverPlainMs ?? null, (v) => v <= 1);
  return late === 0 ? base : `${base}, but inconclusive: in ${late} of ${runs.length} runs the generator itself sent over 1% of arrivals more than ${LATE_MS} ms late (machine saturated; lower --open-rate or run on a quiet machine)`;
}

/** The issue's goals, each with its measured figure (median and min–max over rounds). */
export function goalLines(summaries: readonly VariantSummary[], openLoop: readonly OpenLoopSummary[]): string[] {
  const get = (name: string) => summaries.find((v) => v.name === name && v.runs.length > 0) ?? null;
  const guards = get('sluice-guards');
  const redis = get('sluice-redis');
  const loaded = get('sluice-loaded');
  const open = openLoop.find((v) => v.name === 'sluice-guards') ?? null;
  const openPlain = openLoop.find((v) => v.name === 'plain-proxy') ?? null;
  const lines = [
    `goal: sluice-guards CPU/request ≤ 1.10× plain-proxy: ${ratio(guards?.cpuRatioToPlain ?? null)} — ${verdict(guards?.cpuRatioToPlain ?? null, (v) => v <= 1.1)}`,
    `      the same at the open loop's fixed rate: ${ratio(open?.cpuRatioToPlain ?? null)}`,
    `goal: sluice-redis CPU/request ≤ 1.15× sluice-guards: ${ratio(redis?.cpuRatioToGuards ?? null)} — ${verdict(redis?.cpuRatioToGuards ?? null, (v) => v <= 1.15)}`,
    `goal: sluice-redis req/s ≥ 0.85× sluice-guards: ${ratio(redis?.rpsRatioToGuards ?? null)} — ${verdict(redis?.rpsRatioToGuards ?? null, (v) => v >= 0.85)}`,
    `goal: sluice-loaded RSS ≤ 1.2× plain-proxy: ${ratio(loaded?.rssRatioToPlain ?? null)}${loaded?.hotKeysTracked == null ? '' : ` (${cell(loaded.hotKeysTracked, 0, true)} hot keys tracked)`} — ${verdict(loaded?.rssRatioToPlain ?? null, (v) => v <= 1.2)}`,
    `goal: open loop at ${open?.runs[0]?.rate ?? '—'} req/s, sluice-guards p99 − plain-proxy p99 ≤ 1 ms: ${cell(open?.p99OverPlainMs ?? null, 3, true)} ms — ${openLoopVerdict(open, openPlain)}`,
  ];
  return lines;
}
