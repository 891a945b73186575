// Whole-process fleet mode on one redis-server: sidecar processes share an account quota through
// Redis, keep enforcing it locally (quota / instances each) while Redis is killed, go back to
// shared enforcement by themselves when it returns, refuse with 503 under on_failure: reject,
// and pass an emergency switch posted to one of them on to the others.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admittedBetween, allStoreUp, byStatus, startFleet, startFleetLoad, storeUp, type Fleet, type FleetLoadResult } from '../helpers/fleet.ts';
import {
  admittedBySidecar,
  assertSharedRate,
  BURST,
  checkSwitchBroadcast,
  CONNECTIONS,
  fleetRules,
  lookupBy,
  QUOTA,
  report,
  saturateFleet,
  warmUp,
} from '../helpers/fleet-scenarios.ts';
import { send } from '../helpers/load.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

const INSTANCES = 3;

describe('fleet mode on one redis-server (whole processes)', () => {
  let redis: RedisServer;
  let fleet: Fleet;

  before(async () => {
    redis = await startRedis();
    fleet = await startFleet(INSTANCES, fleetRules(`{ kind: redis, url: "${redis.url}", on_failure: local, instances: ${INSTANCES} }`));
    await waitFor(() => allStoreUp(fleet.sidecars, 1), { timeoutMs: 5000, message: 'every sidecar to reach Redis' });
    await warmUp(fleet.sidecars);
  });

  after(async () => {
    await fleet?.close();
    await redis?.stop();
  });

  it('two sidecar processes share a 300/s account quota: 300/s in total', async () => {
    const result = await saturateFleet(fleet.sidecars.slice(0, 2), 'pair', 3000);
    const figures = assertSharedRate(result, 0.03, 'two sidecars');
    const each = admittedBySidecar(result, 2);
    // Both took part: neither was starved of admissions by the other.
    for (const n of each) assert.ok(n > QUOTA / 4, `admitted per sidecar ${each.join(', ')}`);
    report('two sidecars, one redis-server', { ...figures, admittedBySidecar: each });
  });

  it('three sidecar processes share a 300/s account quota: 300/s in total', async () => {
    const result = await saturateFleet(fleet.sidecars, 'trio', 3000);
    const figures = assertSharedRate(result, 0.03, 'three sidecars');
    const each = admittedBySidecar(result, 3);
    for (const n of each) assert.ok(n > QUOTA / 6, `admitted per sidecar ${each.join(', ')}`);
    report('three sidecars, one redis-server', { ...figures, admittedBySidecar: each });
  });

  it('passes a switch posted to one sidecar on to the others within 1 s, and its clearing', async () => {
    report('switch broadcast, one redis-server', await checkSwitchBroadcast(fleet, 1000));
  });

  it('keeps enforcing locally with no failed request while Redis is killed, and shares again when it returns', async () => {
    const load = startFleetLoad(fleet.sidecars, { connections: CONNECTIONS, durationMs: 15_000, maxRequests: 40_000, request: lookupBy('loop') });
    let result: FleetLoadResult | null = null;
    try {
      await waitFor(() => load.answers.length > 300, { timeoutMs: 5000, message: 'load to be running' });

      const killedAt = performance.now();
      await redis.kill();
      await waitFor(() => allStoreUp(fleet.sidecars, 0), { timeoutMs: 3000, intervalMs: 20, message: 'sluice_store_up 0 on every sidecar' });
      const downAt = performance.now();
      // A measured stretch of the outage: local buckets of QUOTA / INSTANCES on each sidecar.
      const windowMs = 1500;
      await waitFor(() => load.answers.some((a) => a.sentAt >= downAt + windowMs), { timeoutMs: 5000, message: 'the outage window' });
      const outageAnswers = load.answers.filter((a) => a.sentAt >= downAt && a.sentAt < downAt + windowMs);
      for (const s of fleet.sidecars) assert.equal(await storeUp(s), 0, 'still down throughout');

      await redis.restart();
      const backAt = performance.now();
      await waitFor(() => allStoreUp(fleet.sidecars, 1), { timeoutMs: 2000, intervalMs: 20, message: 'sluice_store_up 1 on every sidecar within 2 s' });
      const upAt = performance.now();
      await waitFor(() => load.answers.some((a) => a.sentAt >= upAt + 1000), { timeoutMs: 5000, message: 'a second after recovery' });
      const sharedAdmitted = admittedBetween(load.answers, upAt, upAt + 1000);
      result = await load.stop();

      assert.deepEqual(result.failures, [], 'no request failed');
      const statuses = byStatus(result.answers);
      assert.deepEqual(Object.keys(statuses).filter((s) => s !== '200' && s !== '429'), [], `only 200 and 429: ${JSON.stringify(statuses)}`);

      // Each sidecar kept to QUOTA / INSTANCES (plus its share of the burst): the fleet near QUOTA.
      const outageRate = (QUOTA * windowMs) / 1000;
      const outageEach = new Array<number>(INSTANCES).fill(0);
      for (const a of outageAnswers) if (a.status === 200) outageEach[a.sidecar]++;
      const outageAdmitted = outageEach.reduce((x, y) => x + y, 0);
      assert.ok(
        outageAdmitted >= outageRate * 0.85 && outageAdmitted <= outageRate * 1.03 + BURST + INSTANCES,
        `outage: admitted ${outageAdmitted} (${outageEach.join(', ')}) of ${outageAnswers.length} answers in ${windowMs} ms, expected about ${outageRate}`,
      );
      for (const n of outageEach) {
        assert.ok(n <= (outageRate / INSTANCES) * 1.03 + BURST / INSTANCES + 1, `local share per sidecar: ${outageEach.join(', ')}`);
      }
      // Redis came back empty: the shared bucket starts full.
      assert.ok(
        sharedAdmitted >= QUOTA * 0.9 && sharedAdmitted <= QUOTA * 1.03 + BURST + 1,
        `after recovery: admitted ${sharedAdmitted} in 1 s, expected about ${QUOTA}`,
      );
      report('redis-server killed under load', {
        requests: result.answers.length,
        statuses,
        requestsPerSecond: Math.round((result.answers.length * 1000) / (result.lastSent - result.firstSent)),
        downSeenAfterMs: Math.round(downAt - killedAt),
        outageAdmittedPerSecond: Math.round((outageAdmitted * 1000) / windowMs),
        outageAdmittedBySidecar: outageEach,
        upAfterRestartMs: Math.round(upAt - backAt),
        admittedInFirstSecondShared: sharedAdmitted,
      });
    } finally {
      if (result === null) await load.stop();
    }

    // Shared, not local: one sidecar alone is now admitted the whole quota, not QUOTA / INSTANCES.
    const solo = assertSharedRate(await saturateFleet(fleet.sidecars.slice(0, 1), 'solo', 1500), 0.05, 'one sidecar after recovery');
    report('one sidecar after recovery', solo);
  });
});

describe('fleet mode with on_failure: reject (whole process)', () => {
  let redis: RedisServer;
  let fleet: Fleet;

  before(async () => {
    redis = await startRedis();
    fleet = await startFleet(1, fleetRules(`{ kind: redis, url: "${redis.url}", on_failure: reject, instances: ${INSTANCES} }`));
    await waitFor(() => allStoreUp(fleet.sidecars, 1), { timeoutMs: 5000, message: 'the sidecar to reach Redis' });
  });

  after(async () => {
    await fleet?.close();
    await redis?.stop();
  });

  it('answers 503 store_unavailable while Redis is down, and admits again when it returns', async () => {
    const [sidecar] = fleet.sidecars;
    const lookup = () => send(sidecar.url, '/members/1', { 'x-caller-account': 'pair' });
    assert.equal((await lookup()).status, 200);

    await redis.kill();
    await waitFor(async () => (await storeUp(sidecar)) === 0, { timeoutMs: 3000, message: 'sluice_store_up 0' });
    for (let i = 0; i < 5; i++) {
      const res = await lookup();
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('x-sluice-reason'), 'store_unavailable');
      assert.equal((JSON.parse(res.body) as { reason: string }).reason, 'store_unavailable');
    }
    // Accounts without a quota never ask the store: they are still served.
    assert.equal((await send(sidecar.url, '/members/1', { 'x-caller-account': 'order-center' })).status, 200);

    await redis.restart();
    await waitFor(async () => (await storeUp(sidecar)) === 1, { timeoutMs: 2000, message: 'sluice_store_up 1 within 2 s' });
    assert.equal((await lookup()).status, 200);
  });
});
