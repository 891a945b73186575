// A Redis Cluster master killed (SIGKILL) under load, against a whole sidecar process on a
// cluster of three masters with one replica each: no request fails, the quota stays enforced
// throughout (locally while the cluster fails over, shared again once the replica took over),
// and the fleet store comes back by itself with the dead master still gone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { storeUp } from '../helpers/fleet.ts';
import { report } from '../helpers/fleet-scenarios.ts';
import { runLoad, startLoad, type Answer } from '../helpers/load.ts';
import { clusterMasters, holdsKey, startRedisCluster, type RedisCluster } from '../helpers/redis.ts';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { clusterSections, startFakeCluster, type FakeCluster } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

const run = promisify(execFile);
const INSTANCES = 2;
const QUOTA = 40;
const BURST = 4;
const RUN_MS = 12_000;
const KILL_AT_MS = 2500;

describe('a Redis Cluster master killed under load (whole process, 3 masters + 3 replicas)', () => {
  let cluster: RedisCluster;
  let clusters: FakeCluster[];
  let sidecar: SidecarProcess;
  let dir: string;

  before(async () => {
    cluster = await startRedisCluster({ replicas: 1 });
    // Every replica in sync with its master, so that one can take over.
    await waitFor(
      async () => {
        const masters = new Set(await clusterMasters(cluster.servers[0].port));
        for (const server of cluster.servers) {
          if (masters.has(server.port)) continue;
          const { stdout } = await run('redis-cli', ['-p', String(server.port), 'info', 'replication']);
          if (!stdout.includes('master_link_status:up')) return false;
        }
        return masters.size === 3;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'three masters, each replica linked' },
    );
    clusters = await Promise.all(['primary', 'marketing', 'backup'].map((name) => startFakeCluster(name)));
    const [primary, marketing, backup] = clusters;
    dir = await mkdtemp(join(tmpdir(), 'sluice-cluster-kill-'));
    const nodes = cluster.nodes.map((n) => `"${n}"`).join(', ');
    await writeFile(
      join(dir, 'rules.yaml'),
      `${clusterSections({ primary: primary.port, marketing: marketing.port, backup: backup.port })}store: { kind: redis-cluster, nodes: [${nodes}], on_failure: local, instances: ${INSTANCES} }
callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: busy, owner: Li Wei, team: order-platform, scenario: Order flow, class: order, quota: 100000/s, burst: 10000 }
    - { id: metered, owner: Zhao Lei, team: growth, scenario: Campaign lookup, class: order, quota: ${QUOTA}/s, burst: ${BURST} }
`,
    );
    sidecar = await startSidecar(dir);
    await waitFor(async () => (await storeUp(sidecar)) === 1, { timeoutMs: 10_000, message: 'the sidecar to reach the cluster' });
    await runLoad(sidecar.url, { connections: 4, durationMs: 500, request: { path: '/members/1', headers: { 'x-caller-account': 'metered' } } });
  });

  after(async () => {
    await sidecar?.stop();
    await Promise.all((clusters ?? []).map((c) => c.close()));
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('fails no request and keeps the quota enforced while a replica takes over', async () => {
    const busyAnswers: Answer[] = [];
    const meteredAnswers: Answer[] = [];
    const busy = startLoad(sidecar.url, {
      connections: 12,
      durationMs: RUN_MS,
      ratePerSecond: 400,
      request: (i) => ({ path: `/members/${i % 500}`, headers: { 'x-caller-account': 'busy' } }),
      onAnswer: (a) => busyAnswers.push(a),
    });
    const metered = startLoad(sidecar.url, {
      // Five times the quota: over the shared limit, and over the local one during the failover.
      connections: 8,
      ratePerSecond: 5 * QUOTA,
      durationMs: RUN_MS,
      request: { path: '/members/7', headers: { 'x-caller-account': 'metered' } },
      onAnswer: (a) => meteredAnswers.push(a),
    });
    const started = performance.now();
    // The master holding the metered account's bucket (seen while the load keeps it alive): its
    // death is the one that matters to that quota.
    const masters = await clusterMasters(cluster.servers[0].port);
    const holder = await waitFor(
      async () => {
        for (const port of masters) if (await holdsKey(port, '*metered*')) return port;
        return null;
      },
      { timeoutMs: 2000, intervalMs: 20, message: 'the master holding the metered bucket' },
    );
    const victim = cluster.servers.find((s) => s.port === holder);
    assert.ok(victim !== undefined);
    await waitFor(() => performance.now() - started >= KILL_AT_MS, { timeoutMs: KILL_AT_MS + 1000, intervalMs: 20 });
    const killedAt = performance.now();
    await victim.kill();
    const failedOver = waitFor(
      async () => {
        const now = await clusterMasters(cluster.servers.find((s) => s !== victim)?.port ?? 0);
        return now.length === 3 && !now.includes(victim.port) ? performance.now() : null;
      },
      { timeoutMs: RUN_MS, intervalMs: 50, message: 'a replica to take over' },
    );
    const down = await waitFor(async () => ((await storeUp(sidecar)) === 0 ? performance.now() : null), { timeoutMs: 8000, intervalMs: 20, message: 'the store to be marked down' }).catch(() => null);
    const upAt = await waitFor(async () => ((await storeUp(sidecar)) === 1 && (down === null || performance.now() > down) ? performance.now() : null), {
      timeoutMs: RUN_MS,
      intervalMs: 50,
      message: 'the store to be up again on the promoted replica',
    });
    const failedOverAt = await failedOver;
    const [busyTally, meteredTally] = await Promise.all([busy.done, metered.done]);
    const newMasters = await clusterMasters(cluster.servers.find((s) => s !== victim)?.port ?? 0);

    const spanMs = meteredTally.spanMs;
    const admitted = meteredAnswers.filter((a) => a.status === 200).length;
    // Shared: QUOTA × span + the burst. Each switch to local and back may add a local bucket's
    // burst (BURST / INSTANCES) on this sidecar; the contract bounds the rest.
    const bound = (QUOTA * spanMs) / 1000 + BURST + 1 + 2 * (BURST / INSTANCES + 1);
    const outage = meteredAnswers.filter((a) => a.sentAt >= killedAt && a.sentAt < upAt);
    const outageAdmitted = outage.filter((a) => a.status === 200).length;
    const figures = {
      busyByStatus: Object.fromEntries(busyTally.byStatus),
      meteredByStatus: Object.fromEntries(meteredTally.byStatus),
      failures: busyTally.failures.length + meteredTally.failures.length,
      markedDownAfterMs: down === null ? null : Math.round(down - killedAt),
      upAgainAfterMs: Math.round(upAt - killedAt),
      replicaTookOverAfterMs: Math.round(failedOverAt - killedAt),
      mastersBefore: masters.length,
      mastersAfter: newMasters.length,
      meteredAdmitted: admitted,
      meteredBound: Math.round(bound),
      meteredAdmittedPerSecondDuringOutage: Math.round((outageAdmitted * 1000) / (upAt - killedAt)),
    };
    report('redis cluster master killed under load', figures);

    assert.deepEqual([...busyTally.failures, ...meteredTally.failures], [], 'no transport failure');
    assert.deepEqual([...busyTally.byStatus.keys()], [200], `busy: ${JSON.stringify(figures.busyByStatus)}`);
    assert.deepEqual([...meteredTally.byStatus.keys()].filter((s) => s !== 200 && s !== 429), [], `metered: ${JSON.stringify(figures.meteredByStatus)}`);
    assert.ok(admitted <= bound, `metered admitted ${admitted}, at most ${bound.toFixed(0)}`);
    // Enforced throughout: refusals while the cluster failed over, and no more than the quota then.
    assert.ok(outage.some((a) => a.status === 429), 'the quota refused callers during the failover too');
    assert.ok(outageAdmitted <= (QUOTA * (upAt - killedAt)) / 1000 + BURST + 2, `admitted during the failover: ${outageAdmitted}`);
    assert.ok(!newMasters.includes(victim.port) && newMasters.length === 3, `a replica took over: masters ${newMasters.join(', ')}`);
  });
});
