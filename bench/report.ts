// Summaries of the measured runs (median with min–max over rounds) and their Markdown rendering.

/** One measured run of one variant. */
export interface Measurement {
  readonly round: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly responses: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly durationS: number;
  /** Proxy process tree CPU (user + system) per response; null for direct (and for a run with no response). */
  readonly proxyCpuUsPerReq: number | null;
  readonly upstreamCpuUsPerReq: number | null;
  /** CPU of the variant's helpers (e.g. redis-server) per response; null when it has none. */
  readonly helperCpuUsPerReq: number | null;
  /** Proxy resident memory after the run, MiB; null for direct. */
  readonly proxyRssMiB: number | null;
  readonly statusCodes: Readonly<Record<string, number>>;
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
  readonly proxyRssMiB: Spread | null;
  /** Summed over rounds. */
  readonly errors: number;
  readonly non2xx: number;
  readonly rpsRatioToDirect: number | null;
  readonly cpuRatioToPlain: number | null;
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
    proxyRssMiB: spread(v.runs.map((r) => r.proxyRssMiB)),
    errors: v.runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
    non2xx: v.runs.reduce((n, r) => n + r.non2xx, 0),
  }));
  const direct = base.find((v) => v.name === 'direct')?.rps?.median ?? null;
  const plain = base.find((v) => v.name === 'plain-proxy')?.proxyCpuUsPerReq?.median ?? null;
  return base.map((v) => ({
    ...v,
    rpsRatioToDirect: direct !== null && v.rps !== null ? v.rps.median / direct : null,
    cpuRatioToPlain: plain !== null && v.proxyCpuUsPerReq !== null ? v.proxyCpuUsPerReq.median / plain : null,
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
    '| variant | req/s | ×direct | p50 ms | p99 ms | proxy CPU µs/req | ×plain | proxy RSS MiB | upstream CPU µs/req | errors / non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const v of summaries) {
    if (v.skipped !== null || (v.failed !== null && v.runs.length === 0)) {
      lines.push(`| ${v.name} | ${v.skipped !== null ? 'skipped' : 'FAILED'} | | | | | | | | |`);
      continue;
    }
    lines.push(`| ${v.name}${v.failed !== null ? ' (FAILED)' : ''} | ${cell(v.rps, 0, true)} | ${ratio(v.rpsRatioToDirect)} | ${cell(v.p50Ms, 2, true)} | ${cell(v.p99Ms, 2, true)} | `
      + `${cell(v.proxyCpuUsPerReq, 1, true)} | ${ratio(v.cpuRatioToPlain)} | ${cell(v.proxyRssMiB, 0, false)} | `
      + `${cell(v.upstreamCpuUsPerReq, 1, false)} | ${v.errors} / ${v.non2xx} |`);
  }
  return lines.join('\n');
}
