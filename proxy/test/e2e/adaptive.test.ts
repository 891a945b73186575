// Whole-process adaptive overload protection (SPEC §9) against a stand-in member service of fixed
// capacity in a process of its own (C = 8 at once, S = 200 ms each, FIFO beyond; S long enough
// that the pauses of a loaded 2-core machine stay small beside it): offered three times its
// capacity, the sidecar keeps the cluster busy (goodput near C/S) while what it admits waits
// little, where without the rule the queue sets everyone's latency; a lower class floods the
// cluster while the order class keeps its success; the limit grows back once a slowdown ends.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adminJson, metricsText, metricValue } from '../helpers/admin.ts';
import { startCapacityUpstream, type CapacityUpstream } from '../helpers/capacity-upstream.ts';
import { send, startLoad, type Answer } from '../helpers/load.ts';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { waitFor } from '../helpers/wait-for.ts';

const C = 8;
const S = 200;
const CAPACITY_PER_S = (C * 1000) / S;
const SURGE_MS = 10_000;
/** The first part of a surge is the limit settling; figures are taken after it. */
const SETTLE_MS = 3000;

interface AdaptiveView {
  cluster: string;
  limit: number;
  inflight: number;
  noload_ms: number;
  classes: { class: string; share: number; admitted_below: number }[];
}

function rules(port: number, adaptive: string): string {
  return `version: 1
clusters:
  primary: { endpoints: ["http://127.0.0.1:${port}"], timeout: 10s, connections: 256 }
classes:
  order: { cluster: primary }
  batch: { cluster: primary }
callers:
  auth: trust
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Orders, class: order }
    - { id: batch-job, owner: Zhao Min, team: data, scenario: Nightly export, class: batch }
${adaptive}`;
}

const ADAPTIVE = `limits:
  adaptive:
    - { cluster: primary, algorithm: gradient, initial_limit: 8, min_limit: 4, max_limit: 200, tolerance: 1.5, reserve: 0.2 }
`;

interface Running {
  readonly upstream: CapacityUpstream;
  readonly sidecar: SidecarProcess;
  close(): Promise<void>;
}

async function start(adaptive: string, serviceMs = S): Promise<Running> {
  const upstream = await startCapacityUpstream('primary', C, serviceMs);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-adaptive-'));
  await writeFile(join(dir, 'rules.yaml'), rules(upstream.port, adaptive));
  const sidecar = await startSidecar(dir);
  return {
    upstream,
    sidecar,
    async close() {
      await sidecar.stop();
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

interface SurgeFigures {
  goodput: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  admitted: number;
  refused: number;
  other: number;
}

/** 64 clients offering 3 × C/S for SURGE_MS; figures over the part after SETTLE_MS. */
async function surge(sidecar: SidecarProcess): Promise<SurgeFigures> {
  const answers: Answer[] = [];
  const startedAt = performance.now();
  const load = startLoad(sidecar.url, {
    connections: 64,
    durationMs: SURGE_MS,
    ratePerSecond: 3 * CAPACITY_PER_S,
    maxRequests: 10_000,
    request: { path: '/members/1', headers: { 'x-caller-account': 'order-center' } },
    onAnswer: (answer) => answers.push(answer),
  });
  const tally = await load.done;
  assert.deepEqual(tally.failures, []);
  const from = startedAt + SETTLE_MS;
  const to = startedAt + SURGE_MS;
  const counted = answers.filter((a) => a.sentAt >= from && a.sentAt < to);
  const ok = counted.filter((a) => a.status === 200);
  const latencies = ok.map((a) => a.answeredAt - a.sentAt).sort((a, b) => a - b);
  return {
    goodput: ok.length / ((to - from) / 1000),
    p50: percentile(latencies, 0.5),
    p90: percentile(latencies, 0.9),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
    admitted: ok.length,
    refused: counted.filter((a) => a.status === 503).length,
    other: counted.filter((a) => a.status !== 200 && a.status !== 503).length,
  };
}

const fmt = (f: SurgeFigures): string =>
  `goodput ${f.goodput.toFixed(0)}/s (capacity ${CAPACITY_PER_S}/s), admitted p50 ${f.p50.toFixed(0)} p90 ${f.p90.toFixed(0)} p99 ${f.p99.toFixed(0)} max ${f.max.toFixed(0)} ms ` +
  `(S = ${S} ms), ${f.admitted} admitted, ${f.refused} refused 503`;

describe('adaptive overload protection against a cluster of fixed capacity (whole process)', () => {
  const running: Running[] = [];
  after(async () => {
    for (const r of running) await r.close();
  });

  let withRule: SurgeFigures | null = null;

  it('offered 3x capacity by 64 clients: goodput >= 90% of C/S and admitted p99 <= 3 x S', async () => {
    const limited = await start(ADAPTIVE);
    running.push(limited);
    const figures = await surge(limited.sidecar);
    const view = await adminJson<{ clusters: AdaptiveView[] }>(limited.sidecar, '/admin/adaptive');
    console.log(`with limits.adaptive:    ${fmt(figures)}; limit ${view.clusters[0].limit}, no-load ${view.clusters[0].noload_ms} ms`);
    await limited.close();
    running.pop();
    withRule = figures;
    assert.equal(figures.other, 0);
    assert.ok(figures.goodput >= 0.9 * CAPACITY_PER_S, `goodput ${figures.goodput}`);
    assert.ok(figures.p99 <= 3 * S, `admitted p99 ${figures.p99} ms`);
    assert.ok(figures.refused > 0, 'the excess is refused');
  });

  it('the same offered load without the rule: nothing refused, and the queue sets everyone\'s p99', async () => {
    const plain = await start('');
    running.push(plain);
    const figures = await surge(plain.sidecar);
    console.log(`without limits.adaptive: ${fmt(figures)}`);
    await plain.close();
    running.pop();
    assert.equal(figures.refused, 0);
    // 64 clients in flight against 8 served at once: about 64 / 8 × S each.
    assert.ok(figures.p99 > 5 * S, `queueing p99 ${figures.p99} ms`);
    if (withRule !== null) assert.ok(figures.p99 > 2 * withRule.p99, `queueing p99 ${figures.p99} ms against ${withRule.p99} ms`);
  });

  it('refused requests are answered at once: 503 overloaded with Retry-After; /admin/adaptive and the gauges show the limit', async () => {
    const r = await start(ADAPTIVE.replace('initial_limit: 8, min_limit: 4', 'initial_limit: 2, min_limit: 2').replace('max_limit: 200', 'max_limit: 2'));
    running.push(r);
    // Two long requests hold the limit (2); the third is refused without waiting.
    await r.upstream.set({ serviceMs: 2000 });
    const held = [send(r.sidecar.url, '/a', { 'x-caller-account': 'order-center' }), send(r.sidecar.url, '/b', { 'x-caller-account': 'order-center' })];
    await waitFor(async () => (await adminJson<{ clusters: AdaptiveView[] }>(r.sidecar, '/admin/adaptive')).clusters[0].inflight === 2);
    const refused = await send(r.sidecar.url, '/c', { 'x-caller-account': 'order-center' });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.headers.get('x-sluice-reason'), 'overloaded');
    assert.equal((JSON.parse(refused.body) as { reason: string }).reason, 'overloaded');
    assert.ok(refused.ms < 200, `answered in ${refused.ms} ms`);
    const view = await adminJson<{ clusters: AdaptiveView[] }>(r.sidecar, '/admin/adaptive');
    assert.deepEqual(view.clusters[0].classes, [
      { class: 'order', share: 1, admitted_below: 2 },
      { class: 'batch', share: 0.8, admitted_below: 1.6 },
    ]);
    const text = await metricsText(r.sidecar);
    assert.equal(metricValue(text, 'sluice_adaptive_limit', { cluster: 'primary' }), 2);
    assert.equal(metricValue(text, 'sluice_adaptive_inflight', { cluster: 'primary' }), 2);
    assert.equal(metricValue(text, 'sluice_rejections_total', { account: 'order-center', class: 'order', reason: 'overloaded' }), 1);
    await Promise.all(held);
    await r.close();
    running.pop();
  });

  it('two classes on one cluster, 8 order clients and 56 batch clients: order success >= 99%', async () => {
    // Order flow is a quarter of the cluster's capacity; batch alone offers three times all of it.
    // reserve 0.5: the lower class stops at half the limit, the rest is order's.
    // Success, not latency, is judged here: a shorter service time gives more order requests to count.
    const classS = S / 2;
    const classCapacity = (C * 1000) / classS;
    const r = await start(ADAPTIVE.replace('reserve: 0.2', 'reserve: 0.5'), classS);
    running.push(r);
    const orderAnswers: Answer[] = [];
    let batchOk = 0;
    let batchRefused = 0;
    const order = startLoad(r.sidecar.url, {
      connections: 8,
      durationMs: SURGE_MS,
      ratePerSecond: classCapacity / 4,
      maxRequests: 10_000,
      request: { path: '/members/1', headers: { 'x-caller-account': 'order-center' } },
      onAnswer: (a) => orderAnswers.push(a),
    });
    const batch = startLoad(r.sidecar.url, {
      connections: 56,
      durationMs: SURGE_MS,
      ratePerSecond: 3 * classCapacity,
      maxRequests: 10_000,
      request: { path: '/export', headers: { 'x-caller-account': 'batch-job' } },
      onAnswer: (a) => (a.status === 200 ? batchOk++ : batchRefused++),
    });
    await Promise.all([order.done, batch.done]);
    const ok = orderAnswers.filter((a) => a.status === 200);
    const latencies = ok.map((a) => a.answeredAt - a.sentAt).sort((a, b) => a - b);
    const success = ok.length / orderAnswers.length;
    const firstSent = orderAnswers.reduce((m, a) => Math.min(m, a.sentAt), Infinity);
    const refusedAt = orderAnswers.filter((a) => a.status !== 200).map((a) => Math.round(a.sentAt - firstSent));
    const orderStatuses = new Map<number, number>();
    for (const a of orderAnswers) orderStatuses.set(a.status, (orderStatuses.get(a.status) ?? 0) + 1);
    console.log(
      `order: ${ok.length}/${orderAnswers.length} ok (${(success * 100).toFixed(2)}%, by status ${JSON.stringify(Object.fromEntries(orderStatuses))}), p50 ${percentile(latencies, 0.5).toFixed(0)} ms ` +
        `p99 ${percentile(latencies, 0.99).toFixed(0)} ms, refused at ${JSON.stringify(refusedAt)} ms; ` +
        `batch: ${batchOk} ok, ${batchRefused} refused (S = ${classS} ms)`,
    );
    assert.ok(success >= 0.99, `order success ${success}`);
    assert.ok(batchRefused > 0, 'the lower class is shed');
    assert.ok(batchOk > 0, 'but not starved');
    await r.close();
    running.pop();
  });

  it('the limit falls while the cluster is slow and grows back within a few seconds once it is fast again', async () => {
    const r = await start(ADAPTIVE);
    running.push(r);
    const limitNow = async (): Promise<number> => (await adminJson<{ clusters: AdaptiveView[] }>(r.sidecar, '/admin/adaptive')).clusters[0].limit;
    const load = startLoad(r.sidecar.url, {
      connections: 64,
      durationMs: 30_000,
      ratePerSecond: 3 * CAPACITY_PER_S,
      maxRequests: 10_000,
      request: { path: '/members/1', headers: { 'x-caller-account': 'order-center' } },
    });
    try {
      // Learned and settled: the no-load latency known and the limit grown past C under the demand.
      await waitFor(async () => {
        const view = (await adminJson<{ clusters: AdaptiveView[] }>(r.sidecar, '/admin/adaptive')).clusters[0];
        return view.noload_ms > 0 && view.limit > C;
      }, { timeoutMs: 10_000, intervalMs: 50, message: 'limit to grow past C' });
      const healthy = await limitNow();
      // Lunch hour: four times slower.
      await r.upstream.set({ serviceMs: 4 * S });
      const low = await waitFor(async () => {
        const limit = await limitNow();
        return limit <= healthy / 2 ? limit : null;
      }, { timeoutMs: 10_000, intervalMs: 50, message: 'limit to fall' });
      await r.upstream.set({ serviceMs: S });
      const since = performance.now();
      const target = Math.ceil(healthy * 0.8);
      await waitFor(async () => (await limitNow()) >= target, { timeoutMs: 8000, intervalMs: 50, message: `limit back to ${target}` });
      const tookMs = performance.now() - since;
      console.log(`limit ${healthy} healthy → ${low} while 4x slower → back to >= ${target} in ${tookMs.toFixed(0)} ms after recovery (S = ${S} ms)`);
      assert.ok(tookMs <= 6000, `took ${tookMs} ms`);
    } finally {
      await load.stop();
    }
    await r.close();
    running.pop();
  });
});
