// The caller-ledger scenario of the report tests: one account called by two apps and off its
// routes, one idle account, one steady account at about 50 req/s, and a caller naming an account
// that does not exist. Traffic may be spread over several sidecars (a fleet): the counts must add up.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runLoad, send } from './load.ts';
import { SLUICE_BIN } from './sidecar-process.ts';
import { clusterSections } from './upstreams.ts';
import type { ClusterPorts } from './stack.ts';

const run = promisify(execFile);

/** A comment the set-quota edit must keep. */
export const KEPT_COMMENT = '# steady-acct: the loyalty points service, one app, steady traffic';

export function ledgerRules(ports: ClusterPorts, store = ''): string {
  return `${clusterSections(ports)}${store}callers:
  auth: trust
  unknown: reject
  identity: [header:x-client-app, ip]
  accounts:
    # shared-acct: registered for the order flow; two apps use it, one also off its routes.
    - id: shared-acct
      owner: Li Wei
      team: order-platform
      scenario: Load member profile while creating an order
      class: order
      quota: 500/s
      burst: 100
      routes: [GET /members/*]
    - id: idle-acct
      owner: Wang Fang
      team: travel-insurance
      scenario: Check membership level before quoting
      class: order
      quota: 100/s
    ${KEPT_COMMENT}
    - id: steady-acct
      owner: Zhao Lei
      team: loyalty
      scenario: Show points balance
      class: order
      quota: 400/s   # as applied for
      burst: 40
`;
}

export const SHARED_REQUESTS = { appA: 30, appB: 20, appBOff: 10 } as const;
/** Every request the shared account makes, both apps together. */
export const SHARED_TOTAL = SHARED_REQUESTS.appA + SHARED_REQUESTS.appB + SHARED_REQUESTS.appBOff;
export const GHOST_ATTEMPTS = 5;

export interface LedgerTraffic {
  readonly steadySent: number;
  readonly steadyAdmitted: number;
}

/**
 * Drives the scenario. `urls[0]` takes app-a, the last one app-b (one sidecar: both); the steady
 * account is paced at 50 req/s in total, split over all sidecars; the ghost caller goes to the first.
 */
export async function driveLedgerTraffic(urls: readonly string[]): Promise<LedgerTraffic> {
  const first = urls[0];
  const last = urls[urls.length - 1];
  const shared = (app: string) => ({ 'x-caller-account': 'shared-acct', 'x-client-app': app });
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < SHARED_REQUESTS.appA; i++) calls.push(expect200(send(first, `/members/${i}`, shared('booking-web'))));
  for (let i = 0; i < SHARED_REQUESTS.appB; i++) calls.push(expect200(send(last, `/members/${i}`, shared('coupon-batch'))));
  for (let i = 0; i < SHARED_REQUESTS.appBOff; i++) calls.push(expect200(send(last, `/orders/${i}`, shared('coupon-batch'))));
  for (let i = 0; i < GHOST_ATTEMPTS; i++) {
    calls.push(send(first, '/members/1', { 'x-caller-account': 'ghost-app', 'x-client-app': 'mystery-cron' }));
  }
  await Promise.all(calls);
  const tallies = await Promise.all(
    urls.map((url) =>
      runLoad(url, {
        connections: 4,
        durationMs: 3000,
        ratePerSecond: 50 / urls.length,
        maxRequests: 400,
        request: { path: '/members/9', headers: { 'x-caller-account': 'steady-acct', 'x-client-app': 'points-svc' } },
      }),
    ),
  );
  return {
    steadySent: tallies.reduce((s, t) => s + t.sent, 0),
    steadyAdmitted: tallies.reduce((s, t) => s + (t.byStatus.get(200) ?? 0), 0),
  };
}

async function expect200(answer: Promise<{ status: number; body: string }>): Promise<void> {
  const a = await answer;
  if (a.status !== 200) throw new Error(`expected 200, got ${a.status}: ${a.body}`);
}

export interface ReportJson {
  readonly days: number;
  readonly source: string;
  readonly accounts: readonly {
    id: string;
    requests: number;
    peak_rps: number;
    identities: number;
    top_identities: { name: string; count: number }[];
    off_scenario: number;
    off_scenario_share: number;
    rejections: Record<string, number>;
    flags: string[];
  }[];
  readonly unregistered: readonly { name: string; attempts: number; identities: number }[];
}

export async function sluice(args: readonly string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [SLUICE_BIN, ...args], { timeout: 30_000 });
  return stdout;
}

export async function reportJson(args: readonly string[]): Promise<ReportJson> {
  return JSON.parse(await sluice(['accounts', 'report', '--json', ...args])) as ReportJson;
}
