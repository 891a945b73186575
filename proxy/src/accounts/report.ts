// The accounts report (SPEC §13): per registered account its registration beside what the ledger
// saw — requests per day, peak against quota, identities, off-scenario share, last seen — with
// the flags an operator acts on, the unregistered callers that tried, and quota suggestions.
import type { AccountRules } from '../rules/types.ts';
import type { LedgerSummary } from './ledger-day.ts';
import type { CountedName } from './usage.ts';

export const FLAGS = ['unused', 'shared', 'off-scenario', 'near-quota', 'throttled'] as const;
export type Flag = (typeof FLAGS)[number];

/** Peak above this share of the quota is near-quota. */
const NEAR_QUOTA = 0.8;
/** A suggested quota leaves this much room above the peak seen. */
const HEADROOM = 1.5;

export interface ReportRow {
  readonly id: string;
  readonly owner: string;
  readonly team: string;
  readonly scenario: string;
  readonly class: string;
  readonly quota: string | null;
  readonly quota_rps: number | null;
  readonly requests: number;
  readonly requests_per_day: number;
  readonly peak_rps: number;
  /** Peak over quota (0..), null without a quota. */
  readonly peak_share: number | null;
  readonly identities: number;
  readonly top_identities: readonly CountedName[];
  readonly off_scenario: number;
  readonly off_scenario_share: number;
  readonly rejections: Record<string, number>;
  readonly routes: readonly CountedName[];
  readonly first_seen: string | null;
  readonly last_seen: string | null;
  readonly flags: readonly Flag[];
}

export interface UnregisteredRow {
  /** The account name the caller sent ('' when it sent none). */
  readonly name: string;
  readonly attempts: number;
  readonly identities: number;
  readonly top_identities: readonly CountedName[];
  readonly last_seen: string | null;
}

export interface AccountsReport {
  readonly days: number;
  readonly source: string;
  readonly accounts: readonly ReportRow[];
  readonly unregistered: readonly UnregisteredRow[];
}

export function buildReport(
  accounts: readonly AccountRules[],
  ledgerOf: ReadonlyMap<string, LedgerSummary>,
  unregistered: readonly { readonly name: string; readonly ledger: LedgerSummary }[],
  days: number,
  source: string,
): AccountsReport {
  const rows = accounts.map((a) => row(a, ledgerOf.get(a.id) ?? null, days));
  const tried = unregistered
    .filter((u) => u.ledger.requests > 0 || Object.keys(u.ledger.rejections).length > 0)
    .map((u) => ({
      name: u.name,
      attempts: u.ledger.requests,
      identities: u.ledger.identities,
      top_identities: u.ledger.top_identities,
      last_seen: u.ledger.last_seen,
    }))
    .sort((a, b) => b.attempts - a.attempts);
  return { days, source, accounts: rows, unregistered: tried };
}

function row(a: AccountRules, ledger: LedgerSummary | null, days: number): ReportRow {
  const requests = ledger?.requests ?? 0;
  const peak = ledger?.peak_rps ?? 0;
  const quota = a.quota?.perSecond ?? null;
  const identities = ledger?.identities ?? 0;
  const off = ledger?.off_scenario ?? 0;
  const rejections = ledger?.rejections ?? {};
  const refused = Object.values(rejections).reduce((s, n) => s + n, 0);
  const flags: Flag[] = [];
  if (requests === 0 && refused === 0) flags.push('unused');
  if (identities > 1) flags.push('shared');
  if (off > 0) flags.push('off-scenario');
  if (quota !== null && quota > 0 && peak > NEAR_QUOTA * quota) flags.push('near-quota');
  if ((rejections.account_quota ?? 0) > 0) flags.push('throttled');
  return {
    id: a.id,
    owner: a.owner,
    team: a.team,
    scenario: a.scenario,
    class: a.class,
    quota: a.quota?.text ?? null,
    quota_rps: quota,
    requests,
    requests_per_day: Math.round(requests / Math.max(1, days)),
    peak_rps: peak,
    peak_share: quota === null || quota === 0 ? null : peak / quota,
    identities,
    top_identities: ledger?.top_identities ?? [],
    off_scenario: off,
    off_scenario_share: requests === 0 ? 0 : off / requests,
    rejections,
    routes: ledger?.routes ?? [],
    first_seen: ledger?.first_seen ?? null,
    last_seen: ledger?.last_seen ?? null,
    flags,
  };
}

/** peak × 1.5, rounded up to two significant digits (75, 1900, 12000), at least 1. */
export function suggestedRate(peak: number): number {
  const raw = Math.max(1, peak * HEADROOM);
  const step = 10 ** Math.max(0, Math.floor(Math.log10(raw)) - 1);
  return Math.ceil(raw / step) * step;
}

/** Ready `sluice accounts set-quota` lines; accounts without calls get a comment instead. */
export function suggestionLines(report: AccountsReport, rulesFlag: string | null): string[] {
  const rules = rulesFlag === null ? '' : ` --rules ${rulesFlag}`;
  return report.accounts.map((r) => {
    if (r.peak_rps <= 0) return `# ${r.id}: no calls in the last ${report.days} day(s); quota ${r.quota ?? 'none'} left as is`;
    const rate = suggestedRate(r.peak_rps);
    // The peak counts every call, refused ones too: a throttled account's peak is its demand.
    const note = r.flags.includes('throttled') ? '; throttled: the peak includes refused calls, check before raising' : '';
    return `sluice accounts set-quota ${r.id} ${rate}/s${rules}   # peak ${r.peak_rps}/s, now ${r.quota ?? 'no quota'}${note}`;
  });
}

export function reportTable(report: AccountsReport): string[] {
  const lines: string[] = [`accounts report: last ${report.days} day(s), from ${report.source}`];
  const rows = [['ACCOUNT', 'OWNER', 'TEAM', 'SCENARIO', 'REQ/DAY', 'PEAK/QUOTA', 'IDENTITIES', 'OFF-SCENARIO', 'LAST SEEN', 'FLAGS']];
  for (const r of report.accounts) {
    rows.push([
      r.id,
      r.owner,
      r.team,
      cut(r.scenario, 32),
      String(r.requests_per_day),
      `${r.peak_rps}/${r.quota_rps ?? '-'}${r.peak_share === null ? '' : ` (${Math.round(r.peak_share * 100)}%)`}`,
      r.identities === 0 ? '0' : `${r.identities} (${r.top_identities.slice(0, 3).map((i) => i.name).join(', ')})`,
      r.requests === 0 ? '-' : `${(r.off_scenario_share * 100).toFixed(1)}%`,
      r.last_seen ?? 'never',
      r.flags.join(','),
    ]);
  }
  lines.push(...columns(rows));
  if (report.unregistered.length > 0) {
    lines.push('', 'unregistered callers that tried:');
    const tried = [['NAME SENT', 'ATTEMPTS', 'IDENTITIES', 'LAST SEEN']];
    for (const u of report.unregistered) {
      tried.push([
        u.name === '' ? '(no account header)' : u.name,
        String(u.attempts),
        `${u.identities} (${u.top_identities.slice(0, 3).map((i) => i.name).join(', ')})`,
        u.last_seen ?? '-',
      ]);
    }
    lines.push(...columns(tried));
  }
  return lines;
}

function columns(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
}

function cut(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
