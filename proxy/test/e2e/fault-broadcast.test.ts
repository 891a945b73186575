// Admin drills across a fleet (SPEC §11): a drill posted to one sidecar reaches the others through
// Redis, a sidecar started mid-drill joins it, and stopping it on one stops it everywhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminJson } from '../helpers/admin.ts';
import { allStoreUp, startFleet, type Fleet } from '../helpers/fleet.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface FaultView {
  readonly name: string;
  readonly origin: string;
  readonly instance?: string;
}

const listed = async (sidecar: SidecarProcess): Promise<FaultView[]> =>
  (await adminJson<{ faults: FaultView[] }>(sidecar, '/admin/faults')).faults;

const status = async (sidecar: SidecarProcess): Promise<string> => {
  const res = await fetch(`${sidecar.url}/members/1`, { headers: { 'x-caller-account': 'order-center' } });
  await res.text();
  return `${res.status} ${res.headers.get('x-sluice-reason') ?? '-'}`;
};

describe('admin drills broadcast over Redis (whole processes)', () => {
  let redis: RedisServer;
  let fleet: Fleet;
  let late: SidecarProcess | null = null;

  before(async () => {
    redis = await startRedis();
    fleet = await startFleet(2, (ports) => memberServiceRules(ports, `store: { kind: redis, url: "${redis.url}" }\n`));
    await waitFor(() => allStoreUp(fleet.sidecars, 1), { timeoutMs: 5000, message: 'both sidecars on Redis' });
  });
  after(async () => {
    await late?.stop();
    await fleet?.close();
    await redis?.stop();
  });

  it('reaches the other sidecar, a late one joins it, and DELETE on one stops it on all', async (t) => {
    const [a, b] = fleet.sidecars;
    const postedAt = performance.now();
    await adminJson(a, '/admin/faults', {
      method: 'POST',
      body: JSON.stringify({ name: 'fleet-drill', class: 'order', abort: 503, ttl: '2m' }),
    });
    assert.equal(await status(a), '503 fault_injected');
    await waitFor(async () => (await status(b)) === '503 fault_injected', { timeoutMs: 2000, intervalMs: 10, message: 'the drill on the other sidecar' });
    const reachedMs = performance.now() - postedAt;
    const there = (await listed(b)).find((f) => f.name === 'fleet-drill');
    assert.equal(there?.origin, 'admin');

    late = await startSidecar(fleet.dir);
    await waitFor(async () => (await status(late as SidecarProcess)) === '503 fault_injected', { timeoutMs: 5000, message: 'the late sidecar to join the drill' });

    const stoppedAt = performance.now();
    const stop = await fetch(`${b.adminUrl}/admin/faults/fleet-drill`, { method: 'DELETE' });
    assert.equal(stop.status, 200);
    for (const sidecar of [a, b, late]) {
      await waitFor(async () => (await status(sidecar)) === '200 -', { timeoutMs: 2000, intervalMs: 10, message: 'the drill stopped everywhere' });
    }
    const stoppedMs = performance.now() - stoppedAt;
    t.diagnostic(`drill reached the other sidecar in ${reachedMs.toFixed(0)} ms; stopped everywhere in ${stoppedMs.toFixed(0)} ms`);
    console.log(`fault broadcast: reached in ${reachedMs.toFixed(0)} ms, stopped everywhere in ${stoppedMs.toFixed(0)} ms`);
    assert.ok(reachedMs < 1000 && stoppedMs < 1000);
  });
});
