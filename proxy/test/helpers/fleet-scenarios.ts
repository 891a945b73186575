// What the fleet tests on one redis-server and on a Redis Cluster have in common: the rules (a
// few accounts sharing one quota), a warm-up, the shared-rate assertion and the switch broadcast.
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { bucketSpec } from '../../src/store/store.ts';
import { adminJson } from './admin.ts';
import { byStatus, startFleetLoad, type Fleet, type FleetLoadResult } from './fleet.ts';
import { send, type LoadRequest } from './load.ts';
import type { SidecarProcess } from './sidecar-process.ts';
import type { ClusterPorts } from './stack.ts';
import { clusterSections } from './upstreams.ts';
import { waitFor } from './wait-for.ts';

/** Every quota account's fleet-wide rate (per second) and burst. */
export const QUOTA = 300;
export const BURST = 30;
/** Requests in flight per sidecar: enough to saturate QUOTA, modest on two shared cores. */
export const CONNECTIONS = 4;

/** Accounts with QUOTA/s and BURST, one per scenario so each starts with a full bucket. */
const QUOTA_ACCOUNTS = ['warmup', 'pair', 'trio', 'loop', 'solo'] as const;
export type QuotaAccount = (typeof QUOTA_ACCOUNTS)[number];

/** Rules for a fleet on `store` (a YAML flow mapping): order-center unlimited, quota accounts. */
export function fleetRules(store: string) {
  return (ports: ClusterPorts): string =>
    `${clusterSections(ports)}store: ${store}
callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Load member profile while creating an order, class: order }
${QUOTA_ACCOUNTS.map((id) => `    - { id: ${id}, owner: Zhao Lei, team: growth, scenario: Campaign lookup, class: order, quota: ${QUOTA}/s, burst: ${BURST} }`).join('\n')}
`;
}

/** A member lookup by `account`. */
export function lookupBy(account: QuotaAccount | 'order-center'): LoadRequest {
  return { path: '/members/42', headers: { 'x-caller-account': account } };
}

/** Runs the sidecars' request paths before any measurement (JIT, connections, Redis scripts). */
export async function warmUp(sidecars: readonly SidecarProcess[]): Promise<void> {
  const result = await startFleetLoad(sidecars, { connections: CONNECTIONS, durationMs: 600, request: lookupBy('warmup') }).done;
  assert.deepEqual(result.failures, []);
}

/** Saturates `sidecars` with `account`'s lookups for `durationMs`. */
export function saturateFleet(sidecars: readonly SidecarProcess[], account: QuotaAccount, durationMs: number): Promise<FleetLoadResult> {
  return startFleetLoad(sidecars, { connections: CONNECTIONS, durationMs, request: lookupBy(account) }).done;
}

export interface RateFigures {
  readonly admitted: number;
  readonly expected: number;
  /** What one exact GCRA would admit for the same requests at their send times. */
  readonly ideal: number;
  readonly spanMs: number;
  readonly requestsPerSecond: number;
}

/**
 * What one exact GCRA of `perSecond` and `burst` admits for the requests of a fleet load, each at
 * its send time: the reference a fleet sharing one bucket must match whatever the arrivals were.
 */
export function idealAdmitted(result: FleetLoadResult, perSecond: number, burst: number): number {
  const clock = new ManualClock(0);
  const store = new MemoryStore(clock);
  const bucket = [bucketSpec('ideal', perSecond, burst)];
  let admitted = 0;
  for (const sentAt of result.answers.map((a) => a.sentAt).sort((x, y) => x - y)) {
    clock.set(sentAt);
    if (store.take(bucket) === 0) admitted++;
  }
  return admitted;
}

/**
 * Over a saturating run the fleet admitted QUOTA × span (± `tolerance` of it) plus the burst
 * (the bucket starts full: a run may admit BURST + 1 more than the rate alone); every answer was
 * a 200 or a 429 and none failed. Checked in three parts, so a failure says which went wrong:
 * never above that bound; the same count as one exact GCRA given the same requests (the fleet
 * enforces exactly); and that GCRA reaching the bound (the load really saturated the quota
 * throughout: on a loaded machine the load generator itself may stall, then rerun).
 */
export function assertSharedRate(result: FleetLoadResult, tolerance: number, what: string): RateFigures {
  const spanMs = result.lastSent - result.firstSent;
  const admitted = result.answers.filter((a) => a.status === 200).length;
  const expected = (QUOTA * spanMs) / 1000 + BURST + 1;
  const slack = (tolerance * QUOTA * spanMs) / 1000;
  const ideal = idealAdmitted(result, QUOTA, BURST);
  const requestsPerSecond = Math.round((result.answers.length * 1000) / spanMs);
  const statuses = byStatus(result.answers);
  const figures = `admitted ${admitted}, expected ${expected.toFixed(1)} ± ${slack.toFixed(1)}, one exact GCRA ${ideal}, over ${spanMs.toFixed(0)} ms (${requestsPerSecond} requests/s)`;
  assert.deepEqual(result.failures, [], `${what}: transport failures`);
  assert.deepEqual(Object.keys(statuses).filter((s) => s !== '200' && s !== '429'), [], `${what}: ${JSON.stringify(statuses)}`);
  // A sidecar that saw a Redis command over its bound enforces its local share for a while
  // (store_down in its log): the fleet then admits more than one shared bucket would.
  assert.ok(admitted <= expected + slack, `${what}: admitted too many (a store_down during the run?): ${figures}`);
  assert.ok(Math.abs(admitted - ideal) <= slack, `${what}: not what one exact GCRA admits for the same requests (a store_down during the run?): ${figures}`);
  assert.ok(ideal >= expected - slack, `${what}: the load did not saturate the quota throughout (a loaded machine: rerun): ${figures}`);
  return { admitted, expected: Math.round(expected * 10) / 10, ideal, spanMs: Math.round(spanMs), requestsPerSecond };
}

/** Admissions per sidecar of a fleet load. */
export function admittedBySidecar(result: FleetLoadResult, sidecars: number): number[] {
  const counts = new Array<number>(sidecars).fill(0);
  for (const a of result.answers) if (a.status === 200) counts[a.sidecar]++;
  return counts;
}

/** Puts the measured figures in the test output (a TAP comment line). */
export function report(what: string, figures: object): void {
  process.stdout.write(`# ${what}: ${JSON.stringify(figures)}\n`);
}

interface RulesView {
  switch: { current: Record<string, string>; source: string; instance: string | null };
}

/**
 * Posts {"primary":"backup"} to the first sidecar and checks that within `withinMs` every other
 * one shows it (source 'fleet', naming the first) and routes order traffic to backup; then
 * DELETE on the first clears it fleet-wide. Answers how long each took to reach each sidecar.
 */
export async function checkSwitchBroadcast(fleet: Fleet, withinMs: number): Promise<{ reachedMs: number[]; clearedMs: number[] }> {
  const [origin, ...others] = fleet.sidecars;
  const originId = String(origin.logs.find((l) => l.event === 'started')?.instance);
  const view = async (s: SidecarProcess) => (await adminJson<RulesView>(s, '/admin/rules')).switch;
  const clusterOf = async (s: SidecarProcess): Promise<string> => {
    const res = await send(s.url, '/members/7', { 'x-caller-account': 'order-center' });
    assert.equal(res.status, 200, res.body);
    return (JSON.parse(res.body) as { cluster: string }).cluster;
  };
  /** Waits on every other sidecar for `holds`, answering ms since `since` per sidecar. */
  const reachOthers = (since: number, holds: (v: RulesView['switch']) => boolean, what: string) =>
    Promise.all(
      others.map(async (s) => {
        await waitFor(async () => holds(await view(s)), { timeoutMs: withinMs, message: what });
        return Math.round(performance.now() - since);
      }),
    );

  for (const s of fleet.sidecars) assert.equal(await clusterOf(s), 'primary');
  try {
    const posted = performance.now();
    await adminJson(origin, '/admin/switch', { method: 'POST', body: '{"primary":"backup"}' });
    const reachedMs = await reachOthers(posted, (v) => v.source === 'fleet' && v.current.primary === 'backup', 'the switch on another sidecar');
    assert.equal((await view(origin)).source, 'admin');
    for (const s of others) assert.equal((await view(s)).instance, originId, 'names the sidecar it was posted to');
    for (const s of fleet.sidecars) assert.equal(await clusterOf(s), 'backup', 'order traffic moved to backup');

    const deleted = performance.now();
    await adminJson(origin, '/admin/switch', { method: 'DELETE' });
    const clearedMs = await reachOthers(deleted, (v) => Object.keys(v.current).length === 0 && v.source === 'rules', 'the clearing on another sidecar');
    for (const s of fleet.sidecars) assert.equal(await clusterOf(s), 'primary', 'order traffic back on primary');
    return { reachedMs, clearedMs };
  } finally {
    await adminJson(origin, '/admin/switch', { method: 'DELETE' }).catch(() => undefined);
  }
}
