// Summaries of the measured runs (median with min–max over rounds) and their Markdown rendering.
import type { LoadResult } from './load.ts';

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
  /** Summed over rounds. */
  readonly errors: number;
  readonly non2xx: number;
  readonly rpsRatioToDirect: number | null;
  readonly cpuRatioToPlain: number | null;
  /** Against sluice-guards (same rules, memory store): what a shared store costs. */
  readonly rpsRatioToGuards: number | null;
  readonly cpuRatioToGuards: number | null;
  /** (proxy + helper CPU per request) ÷ sluice-guards' proxy CPU per request: Redis's own work included. */
  readonly totalCpuRatioToGuards: number | null;
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
    errors: v.runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    non2xx: v.runs.reduce((n, r) => n + r.non2xx, 0),
  }));
  const direct = base.find((v) => v.name === 'direct')?.rps?.median ?? null;
  const plain = base.find((v) => v.name === 'plain-proxy')?.proxyCpuUsPerReq?.median ?? null;
  const guards = base.find((v) => v.name === 'sluice-guards');
  const guardsRps = guards?.rps?.median ?? null;
  const guardsCpu = guards?.proxyCpuUsPerReq?.median ?? null;
  const over = (value: number | null | undefined, by: number | null): number | null =>
    value === null || value === undefined || by === null ? null : value / by;
  return base.map((v) => ({
    ...v,
    rpsRatioToDirect: over(v.rps?.median, direct),
    cpuRatioToPlain: over(v.proxyCpuUsPerReq?.median, plain),
    rpsRatioToGuards: over(v.rps?.median, guardsRps),
    cpuRatioToGuards: over(v.proxyCpuUsPerReq?.median, guardsCpu),
    totalCpuRatioToGuards: over(v.proxyCpuUsPerReq === null ? null : v.proxyCpuUsPerReq.median + (v.helperCpuUsPerReq?.median ?? 0), guardsCpu),
  }));
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function cell(s: Spread | null, digits: number, withRange: boolean): string {
  if (s === null) return '—';
  const median = fixed(s.median, digits);
  return withRange && s.min !== s.max ? `${median} (${fixed(s.min, digits)}–${fixed(s.max, digits)})` : median;
}

function ratio(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(2)}×`;
}

export function markdownTable(summaries: readonly VariantSummary[]): string {
  const lines = [
    '| variant | req/s | ×direct | p50 ms | p99 ms | proxy CPU µs/req | ×plain | redis CPU µs/req | redis calls/req | proxy RSS MiB | upstream CPU µs/req | errors / non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of summaries) {
    if (v.skipped !== null || (v.failed !== null && v.runs.length === 0)) {
      lines.push(`| ${v.name} | ${v.skipped !== null ? 'skipped' : 'FAILED'} | | | | | | | | | | |`);
      continue;
    }
    lines.push(`| ${v.name}${v.failed !== null ? ' (FAILED)' : ''} | ${cell(v.rps, 0, true)} | ${ratio(v.rpsRatioToDirect)} | ${cell(v.p50Ms, 2, true)} | ${cell(v.p99Ms, 2, true)} | `
      + `${cell(v.proxyCpuUsPerReq, 1, true)} | ${ratio(v.cpuRatioToPlain)} | ${cell(v.helperCpuUsPerReq, 1, true)} | ${cell(v.redisCallsPerReq, 3, true)} | `
      + `${cell(v.proxyRssMiB, 0, false)} | `
      + `${cell(v.upstreamCpuUsPerReq, 1, false)} | ${v.errors} / ${v.non2xx} |`);
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
