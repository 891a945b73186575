// Whole-process fleet mode on a Redis Cluster of three masters: sidecar processes share an
// account quota through the cluster and pass an emergency switch on to each other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allStoreUp, startFleet, type Fleet } from '../helpers/fleet.ts';
import { admittedBySidecar, assertSharedRate, checkSwitchBroadcast, fleetRules, QUOTA, report, saturateFleet, warmUp } from '../helpers/fleet-scenarios.ts';
import { startRedisCluster, type RedisCluster } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('fleet mode on a 3-master Redis Cluster (whole processes)', () => {
  let cluster: RedisCluster;
  let fleet: Fleet;

  before(async () => {
    cluster = await startRedisCluster();
    const nodes = cluster.nodes.map((n) => `"${n}"`).join(', ');
    fleet = await startFleet(3, fleetRules(`{ kind: redis-cluster, nodes: [${nodes}], on_failure: local, instances: 3 }`));
    await waitFor(() => allStoreUp(fleet.sidecars, 1), { timeoutMs: 5000, message: 'every sidecar to reach the cluster' });
    await warmUp(fleet.sidecars);
  });

  after(async () => {
    await fleet?.close();
    await cluster?.stop();
  });

  it('two sidecar processes share a 300/s account quota: 300/s in total', async () => {
    const result = await saturateFleet(fleet.sidecars.slice(0, 2), 'pair', 3000);
    const figures = assertSharedRate(result, 0.03, 'two sidecars');
    const each = admittedBySidecar(result, 2);
    for (const n of each) assert.ok(n > QUOTA / 4, `admitted per sidecar ${each.join(', ')}`);
    report('two sidecars, redis cluster', { ...figures, admittedBySidecar: each });
  });

  it('three sidecar processes share a 300/s account quota: 300/s in total', async () => {
    const result = await saturateFleet(fleet.sidecars, 'trio', 3000);
    const figures = assertSharedRate(result, 0.03, 'three sidecars');
    const each = admittedBySidecar(result, 3);
    for (const n of each) assert.ok(n > QUOTA / 6, `admitted per sidecar ${each.join(', ')}`);
    report('three sidecars, redis cluster', { ...figures, admittedBySidecar: each });
  });

  it('passes a switch posted to one sidecar on to the others within 1 s, and its clearing', async () => {
    report('switch broadcast, redis cluster', await checkSwitchBroadcast(fleet, 1000));
  });
});
