// `sluice accounts report`: the caller ledger beside the registrations. Reads a sidecar's admin
// port (--admin, its own view) or the fleet ledger in Redis (--redis, or the rules' shared store);
// without either, the rules decide: their Redis store, else the admin address they name.
import type { LedgerSummary } from '../accounts/ledger-day.ts';
import { buildReport, reportTable, suggestionLines, type AccountsReport } from '../accounts/report.ts';
import { evaluateSources } from '../rules/load.ts';
import { formatProblem } from '../rules/problems.ts';
import { readSources } from '../rules/sources.ts';
import type { Rules, StoreRules } from '../rules/types.ts';
import { RedisLedgerReader } from '../store/ledger-redis.ts';
import { parseFlags, UsageError } from './usage-error.ts';
import { defaultRulesTarget, type CommandOutput } from './validate.ts';

export const REPORT_USAGE =
  'sluice accounts report [--rules DIR_OR_FILE] [--redis URL | --admin URL] [--days 7] [--json] [--suggest-quotas]';

interface AdminAccounts {
  readonly accounts: readonly { readonly id: string; readonly ledger: LedgerSummary }[];
  readonly unregistered: readonly { readonly id: string; readonly ledger: LedgerSummary }[];
}

/** Answers the exit code; problems with the rules or the source are exit 1. */
export async function reportCommand(args: readonly string[], output: CommandOutput): Promise<number> {
  const { flags, positional } = parseFlags(args, ['rules', 'redis', 'admin', 'days'], [], ['json', 'suggest-quotas']);
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  if (flags.has('redis') && flags.has('admin')) throw new UsageError('give --redis or --admin, not both');
  const daysText = flags.get('days')?.[0] ?? '7';
  const days = Number(daysText);
  if (!/^\d+$/.test(daysText) || days < 1 || days > 30) throw new UsageError(`--days '${daysText}': a whole number of days, 1 to 30`);
  const rulesFlag = flags.get('rules')?.[0] ?? null;

  const sources = await readSources(rulesFlag ?? defaultRulesTarget());
  if (!sources.ok) {
    output.err(formatProblem(sources.problem));
    return 1;
  }
  const loaded = evaluateSources(sources.files);
  if (!loaded.ok) {
    for (const line of loaded.errors) output.err(line);
    return 1;
  }
  let report: AccountsReport;
  try {
    report = await gather(loaded.rules, flags, days);
  } catch (error) {
    output.err(`sluice accounts report: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const suggest = flags.get('suggest-quotas')?.[0] === 'true';
  if (flags.get('json')?.[0] === 'true') {
    output.out(JSON.stringify(suggest ? { ...report, suggestions: suggestionLines(report, rulesFlag) } : report, null, 2));
  } else if (suggest) for (const line of suggestionLines(report, rulesFlag)) output.out(line);
  else for (const line of reportTable(report)) output.out(line);
  return 0;
}

async function gather(rules: Rules, flags: ReadonlyMap<string, string[]>, days: number): Promise<AccountsReport> {
  const redisUrl = flags.get('redis')?.[0];
  const adminUrl = flags.get('admin')?.[0];
  const store: StoreRules | null =
    redisUrl !== undefined
      ? { ...rules.store, kind: 'redis', url: redisUrl, nodes: [] }
      : adminUrl === undefined && rules.store.kind !== 'memory'
        ? rules.store
        : null;
  if (store !== null) return fromRedis(rules, store, days);
  // Where `sluice start` would put the admin port: SLUICE_ADMIN, else the rules' server.admin.
  return fromAdmin(rules, adminUrl ?? `http://${process.env.SLUICE_ADMIN ?? rules.server.admin}`, days);
}

async function fromAdmin(rules: Rules, base: string, days: number): Promise<AccountsReport> {
  const url = `${base.replace(/\/$/, '')}/admin/accounts?days=${days}`;
  const token = process.env[rules.server.adminTokenEnv ?? 'SLUICE_ADMIN_TOKEN'];
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`);
  }
  if (!res.ok) throw new Error(`${url}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as AdminAccounts;
  const ledgers = new Map(body.accounts.map((a) => [a.id, a.ledger]));
  const tried = body.unregistered.map((u) => ({ name: u.id, ledger: u.ledger }));
  return buildReport(rules.callers.accounts, ledgers, tried, days, `sidecar ${base}`);
}

async function fromRedis(rules: Rules, store: StoreRules, days: number): Promise<AccountsReport> {
  const reader = new RedisLedgerReader(store);
  try {
    const now = Date.now();
    const ledgers = new Map<string, LedgerSummary>();
    for (const a of rules.callers.accounts) ledgers.set(a.id, await reader.summary(a.id, true, days, now));
    const tried = [];
    for (const name of await reader.unregisteredNames(days, now)) {
      if (ledgers.has(name)) continue;
      tried.push({ name, ledger: await reader.summary(name, false, days, now) });
    }
    const where = store.kind === 'redis-cluster' ? `redis cluster ${store.nodes.join(',')}` : `redis ${store.url ?? ''}`;
    return buildReport(rules.callers.accounts, ledgers, tried, days, `fleet ledger in ${where}`);
  } finally {
    await reader.close();
  }
}
