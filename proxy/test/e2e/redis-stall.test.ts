// A Redis that stalls (SIGSTOP: connections stay open, nothing is answered) for 2 s under load,
// against a whole sidecar process: no request fails, none waits longer than the store's command
// bound plus a few milliseconds, and shared enforcement comes back by itself after SIGCONT.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { storeUp } from '../helpers/fleet.ts';
import { report } from '../helpers/fleet-scenarios.ts';
import { runLoad, startLoad, type Answer } from '../helpers/load.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { clusterSections, startFakeCluster, type FakeCluster } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** The store's bound on one Redis command (redis-store.ts DEFAULT_COMMAND_TIMEOUT_MS). */
const COMMAND_BOUND_MS = 100;
/** What a request may wait beyond it: scheduling on a shared machine, the upstream's answer. */
const SLACK_MS = 40;
const STALL_MS = 2000;
const INSTANCES = 4;
const METERED_QUOTA = 200;
const METERED_BURST = 20;

describe('Redis stalled (SIGSTOP) for 2 s under load (whole process)', () => {
  let redis: RedisServer;
  let clusters: FakeCluster[];
  let sidecar: SidecarProcess;
  let dir: string;

  before(async () => {
    redis = await startRedis();
    clusters = await Promise.all(['primary', 'marketing', 'backup'].map((name) => startFakeCluster(name)));
    const [primary, marketing, backup] = clusters;
    dir = await mkdtemp(join(tmpdir(), 'sluice-stall-'));
    // Every request of 'busy' takes from its quota in Redis (far above the load: none is refused);
    // 'metered' shows which enforcement is in force: 200/s shared, 50/s locally (200 / 4 instances).
    await writeFile(
      join(dir, 'rules.yaml'),
      `${clusterSections({ primary: primary.port, marketing: marketing.port, backup: backup.port })}store: { kind: redis, url: "${redis.url}", on_failure: local, instances: ${INSTANCES} }
callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: free, owner: Li Wei, team: order-platform, scenario: Order flow, class: order }
    - { id: busy, owner: Li Wei, team: order-platform, scenario: Order flow, class: order, quota: 100000/s, burst: 10000 }
    - { id: metered, owner: Zhao Lei, team: growth, scenario: Campaign lookup, class: order, quota: ${METERED_QUOTA}/s, burst: ${METERED_BURST} }
`,
    );
    sidecar = await startSidecar(dir);
    await waitFor(async () => (await storeUp(sidecar)) === 1, { timeoutMs: 5000, message: 'the sidecar to reach Redis' });
    // Warm the request path (JIT, pooled connections, the Lua script) before measuring.
    await runLoad(sidecar.url, { connections: 8, durationMs: 500, request: { path: '/members/1', headers: { 'x-caller-account': 'busy' } } });
  });

  after(async () => {
    await sidecar?.stop();
    await Promise.all((clusters ?? []).map((c) => c.close()));
    await redis?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('fails no request, keeps each within the command bound, and shares enforcement again after SIGCONT', async () => {
    const answers: Answer[] = [];
    const load = startLoad(sidecar.url, {
      connections: 16,
      durationMs: 6000,
      ratePerSecond: 800,
      // Every other request is a control: its account has no quota, so it never waits on Redis
      // and shows what this machine alone costs a request at that moment.
      request: (i) => ({ path: `/members/${i % 1000}`, headers: { 'x-caller-account': i % 2 === 0 ? 'busy' : 'free' } }),
      onAnswer: (answer) => answers.push(answer),
    });
    await waitFor(() => answers.length >= 400, { timeoutMs: 10_000, message: 'the load to run a while' });
    const stalledAt = performance.now();
    redis.pause();
    let resumedAt = 0;
    try {
      await waitFor(async () => (await storeUp(sidecar)) === 0, { timeoutMs: 1500, message: 'the store to be marked down' });
      const downAfterMs = performance.now() - stalledAt;
      await waitFor(() => performance.now() - stalledAt >= STALL_MS, { timeoutMs: STALL_MS + 1000, intervalMs: 20 });
      redis.resume();
      resumedAt = performance.now();
      await waitFor(async () => (await storeUp(sidecar)) === 1, { timeoutMs: 5000, intervalMs: 20, message: 'the store to be up again after SIGCONT' });
      const upAfterMs = performance.now() - resumedAt;
      const tally = await load.done;

      const wait = (a: Answer) => a.answeredAt - a.sentAt;
      const percentile = (values: number[], p: number) => {
        const sorted = [...values].sort((x, y) => x - y);
        return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
      };
      const isBusy = (a: Answer) => a.index % 2 === 0;
      const beforeStall = answers.filter((a) => a.sentAt < stalledAt);
      // Sent while Redis was stopped, or soon after it woke (its backlog, the probe coming back).
      const inStall = (a: Answer) => a.sentAt >= stalledAt && a.sentAt < resumedAt + 500;
      const during = answers.filter((a) => inStall(a) && isBusy(a));
      const control = answers.filter((a) => inStall(a) && !isBusy(a));
      // What this machine alone did to a request at that moment (other processes hold the CPU):
      // the slowest of the four control requests sent nearest to it. The store must add no more
      // than its bound to that.
      const controlBySent = [...control].sort((x, y) => x.sentAt - y.sentAt);
      const nearby = (a: Answer) => {
        let i = controlBySent.findIndex((c) => c.sentAt >= a.sentAt);
        if (i < 0) i = controlBySent.length;
        return controlBySent.slice(Math.max(0, i - 2), i + 2).map(wait);
      };
      const excessOf = (a: Answer) => wait(a) - Math.max(0, ...nearby(a));
      const slowest = during.reduce((worst, a) => (excessOf(a) > excessOf(worst) ? a : worst), during[0]);
      const excess = excessOf(slowest);
      const jitter = wait(slowest) - excess;
      const allowed = COMMAND_BOUND_MS + SLACK_MS;
      const beforeWaits = beforeStall.map(wait);
      const slowestDuring = Math.max(...during.map(wait));
      const beforeRate = (beforeStall.length * 1000) / (stalledAt - beforeStall[0].sentAt);
      const duringRate = ((during.length + control.length) * 1000) / (resumedAt + 500 - stalledAt);
      const figures = {
        sent: tally.sent,
        byStatus: Object.fromEntries(tally.byStatus),
        failures: tally.failures.length,
        requestsPerSecondBefore: Math.round(beforeRate),
        requestsPerSecondDuringStall: Math.round(duringRate),
        p50BeforeMs: Math.round(percentile(beforeWaits, 0.5)),
        p99BeforeMs: Math.round(percentile(beforeWaits, 0.99)),
        p99DuringStallMs: Math.round(percentile(during.map(wait), 0.99)),
        p99ControlDuringStallMs: Math.round(percentile(control.map(wait), 0.99)),
        slowestDuringStallMs: Math.round(slowestDuring),
        slowestControlDuringStallMs: Math.round(Math.max(...control.map(wait))),
        mostAddedByTheStoreMs: Math.round(excess),
        allowedMs: allowed,
        markedDownAfterMs: Math.round(downAfterMs),
        upAfterSigcontMs: Math.round(upAfterMs),
      };
      report('redis stalled 2 s under load (16 connections)', figures);

      assert.deepEqual(tally.failures, [], 'no transport failure');
      assert.deepEqual([...tally.byStatus.keys()], [200], `every request admitted: ${JSON.stringify(figures.byStatus)}`);
      assert.ok(duringRate >= 0.5 * beforeRate, `load kept flowing during the stall: ${figures.requestsPerSecondDuringStall} vs ${figures.requestsPerSecondBefore} requests/s`);
      assert.ok(
        excess <= allowed,
        `a request during the stall waited ${wait(slowest).toFixed(1)} ms, ${excess.toFixed(1)} ms more than control requests sent with it (${jitter.toFixed(0)} ms): bound ${COMMAND_BOUND_MS} + ${SLACK_MS} ms`,
      );
    } finally {
      redis.resume();
      await load.stop();
    }

    // Shared enforcement is back: 'metered' gets its fleet-wide 200/s, not the local 50/s.
    const saturated = await runLoad(sidecar.url, { connections: 4, durationMs: 2000, request: { path: '/members/7', headers: { 'x-caller-account': 'metered' } } });
    const admitted = saturated.byStatus.get(200) ?? 0;
    const seconds = saturated.spanMs / 1000;
    const shared = METERED_QUOTA * seconds + METERED_BURST + 1;
    const local = (METERED_QUOTA / INSTANCES) * seconds + METERED_BURST / INSTANCES + 1;
    report('after SIGCONT, a 200/s account saturated for 2 s', { admitted, sharedExpected: Math.round(shared), localWouldBe: Math.round(local) });
    assert.deepEqual(saturated.failures, []);
    // Never above the shared bound; far above what local enforcement would allow (a loaded
    // machine may hold the sidecar off the CPU and so admit somewhat less than the rate).
    assert.ok(admitted <= shared + 0.03 * METERED_QUOTA * seconds, `admitted ${admitted}, shared enforcement allows ${shared.toFixed(0)}`);
    assert.ok(admitted >= 2.5 * local, `admitted ${admitted}: shared enforcement (${shared.toFixed(0)}), not local (${local.toFixed(0)})`);
  });
});
