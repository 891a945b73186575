// Whole-process accuracy under traffic as callers really send it (SPEC §3): with the default
// burst a caller below its rate is never refused, even when its requests arrive in bunches, and a
// saturated quota admits its rate — on one sidecar with the memory store, across two sidecars
// sharing one redis-server, and across two sidecars on a 3-master Redis Cluster. Each request
// counts at its own arrival time however the Redis store batches them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runBunches } from '../helpers/bunches.ts';
import { admittedBySidecar, assertSharedRate, BURST, QUOTA, report } from '../helpers/fleet-scenarios.ts';
import { allStoreUp, byStatus, startFleet, startFleetLoad, type Fleet } from '../helpers/fleet.ts';
import { startLoad, type LoadRequest, type LoadTally } from '../helpers/load.ts';
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '../helpers/redis.ts';
import type { ClusterPorts } from '../helpers/stack.ts';
import { clusterSections } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** 16 keep-alive connections (or 16 callers), split over the sidecars. */
const CALLERS = 16;

/** Accounts without a `burst`: each gets the default, a tenth of a second of its quota. */
function rules(store: string) {
  const account = (id: string, quota: string) =>
    `    - { id: ${id}, owner: Zhao Lei, team: growth, scenario: Campaign lookup, class: order, quota: ${quota} }`;
  return (ports: ClusterPorts): string => `${clusterSections(ports)}store: ${store}
callers:
  auth: trust
  unknown: reject
  accounts:
${[account('warmup', '100000/s'), account('bulk', '100000/s'), account('bunched', '2000/s'), account('saturated', `${QUOTA}/s`)].join('\n')}
    - { id: strict, owner: Zhao Lei, team: growth, scenario: Campaign lookup, class: order, quota: 2000/s, burst: 0 }
`;
}

const as = (account: string): LoadRequest => ({ path: '/members/42', headers: { 'x-caller-account': account } });

function statusesOf(tallies: readonly LoadTally[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const t of tallies) for (const [status, n] of t.byStatus) out[status] = (out[status] ?? 0) + n;
  return out;
}

/** store_down events logged so far by the fleet's sidecars. */
function storeDowns(fleet: Fleet): number {
  return fleet.sidecars.reduce((n, s) => n + s.logs.filter((l) => l.event === 'store_down').length, 0);
}

/** The three scenarios on `sidecars` sidecars whose store `startStore` provides. */
function exactScenarios(what: string, sidecars: number, startStore: () => Promise<{ store: string; stop(): Promise<void> }>): void {
  describe(`${what} (whole processes)`, () => {
    let fleet: Fleet;
    let stopStore: (() => Promise<void>) | null = null;

    before(async () => {
      const { store, stop } = await startStore();
      stopStore = stop;
      fleet = await startFleet(sidecars, rules(store));
      await waitFor(() => allStoreUp(fleet.sidecars, 1), { timeoutMs: 5000, message: 'every sidecar on its store' });
      // JIT, connections, Redis scripts: before anything is measured.
      const warm = await startFleetLoad(fleet.sidecars, { connections: CALLERS / sidecars, durationMs: 1000, request: as('warmup') }).done;
      assert.deepEqual(warm.failures, []);
    });

    after(async () => {
      await fleet?.close();
      await stopStore?.();
    });

    it('a 100000/s account at ~5000 req/s over 16 keep-alive connections: zero 429s', async () => {
      // As fast as 16 connections go (each sends its next request when the last is answered),
      // at most 5000/s over 3 s: a few thousand requests/s on a quick 2-core machine, ~900 on a
      // slow one with two sidecars and Redis. The floor only rules out a run too thin to bunch
      // anything (the speed itself is the bench's to measure).
      const loads = fleet.sidecars.map((s) =>
        startLoad(s.url, { connections: CALLERS / sidecars, durationMs: 3000, maxRequests: 15_000 / sidecars, request: as('bulk') }),
      );
      const tallies = await Promise.all(loads.map((l) => l.done));
      const statuses = statusesOf(tallies);
      const sent = tallies.reduce((n, t) => n + t.sent, 0);
      const spanMs = Math.max(...tallies.map((t) => t.spanMs));
      const figures = { sidecars, connections: CALLERS, sent, requestsPerSecond: Math.round((sent * 1000) / spanMs), statuses };
      report(`${what}: 100000/s account at ~5000 req/s`, figures);
      assert.deepEqual(tallies.flatMap((t) => t.failures), [], 'no transport failure');
      assert.deepEqual(statuses, { 200: sent }, 'every request admitted');
      assert.ok(figures.requestsPerSecond >= 500, `the load ran at only ${figures.requestsPerSecond} req/s`);
    });

    it('a 2000/s account at ~1000 req/s from 16 callers firing together: zero 429s', async () => {
      // 16 at the same instant every 16 ms: 1000/s, half the quota, each bunch within the burst (200).
      const tally = await runBunches(
        fleet.sidecars.map((s) => s.url),
        { size: CALLERS, everyMs: 16, durationMs: 3000, request: as('bunched') },
      );
      report(`${what}: 2000/s account, bunches of 16 at ~1000 req/s`, { sidecars, ...tally });
      assert.deepEqual(tally.failures, [], 'no transport failure');
      assert.deepEqual(tally.byStatus, { 200: tally.sent }, `every request admitted (refused: ${JSON.stringify(tally.reasons)})`);
      assert.ok(tally.requestsPerSecond >= 500, `the bunches ran at only ${tally.requestsPerSecond} req/s`);
    });

    it('the same bunches against an explicit burst: 0 are refused: strict spacing, as configured', async () => {
      // The control: what the default burst is for. 16 arrivals in one instant against 2000/s
      // with no tolerance are one per 0.5 ms too many, far below the rate.
      const tally = await runBunches(
        fleet.sidecars.map((s) => s.url),
        { size: CALLERS, everyMs: 16, durationMs: 1500, request: as('strict') },
      );
      const refused = tally.byStatus[429] ?? 0;
      report(`${what}: 2000/s account with burst 0, bunches of 16`, { sidecars, ...tally, refusedShare: Math.round((refused / tally.sent) * 100) / 100 });
      assert.deepEqual(tally.failures, []);
      assert.ok(refused >= tally.sent * 0.25, `burst 0 refuses bunched arrivals: ${JSON.stringify(tally.byStatus)}`);
      assert.deepEqual(Object.keys(tally.reasons), ['account_quota']);
    });

    it(`${sidecars === 1 ? 'one sidecar' : `${sidecars} sidecars`} saturating a ${QUOTA}/s account for 4 s admit ${QUOTA * 4} ± 3% plus the burst`, async () => {
      // The default burst of 300/s is BURST (30): the fleet-scenario bound applies as it is.
      assert.equal(BURST, QUOTA / 10);
      const downsBefore = storeDowns(fleet);
      const result = await startFleetLoad(fleet.sidecars, { connections: CALLERS / sidecars, durationMs: 4000, request: as('saturated') }).done;
      // Shared enforcement is what is measured: a Redis command over its 100 ms bound (a machine
      // too loaded) sends a sidecar to its local share for a while, which is another contract.
      assert.equal(storeDowns(fleet), downsBefore, `${what}: the store was marked down during the run; rerun on a quieter machine`);
      const figures = assertSharedRate(result, 0.03, `${what}: saturated ${QUOTA}/s`);
      const each = admittedBySidecar(result, sidecars);
      // Every sidecar took part: none was starved of admissions by the others.
      for (const n of each) assert.ok(n > (QUOTA * 4) / (sidecars * 4), `admitted per sidecar ${each.join(', ')}`);
      report(`${what}: ${QUOTA}/s saturated for 4 s`, { ...figures, statuses: byStatus(result.answers), admittedBySidecar: each });
    });
  });
}

exactScenarios('one sidecar, memory store', 1, () => Promise.resolve({ store: '{ kind: memory }', stop: () => Promise.resolve() }));

exactScenarios('two sidecars sharing one redis-server', 2, async () => {
  const redis: RedisServer = await startRedis();
  return { store: `{ kind: redis, url: "${redis.url}", on_failure: local, instances: 2 }`, stop: () => redis.stop() };
});

exactScenarios('two sidecars on a 3-master Redis Cluster', 2, async () => {
  const cluster: RedisCluster = await startRedisCluster();
  const nodes = cluster.nodes.map((n) => `"${n}"`).join(', ');
  return { store: `{ kind: redis-cluster, nodes: [${nodes}], on_failure: local, instances: 2 }`, stop: () => cluster.stop() };
});
