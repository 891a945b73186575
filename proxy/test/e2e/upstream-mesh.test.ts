// Whole-process tests of the upstream data plane (SPEC §10): retries when an endpoint dies under
// load, active health checks, least-request balancing, and the retry budget.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { adminJson, metricsText, metricValue } from '../helpers/admin.ts';
import { startEndpoint, type TestEndpoint } from '../helpers/endpoints.ts';
import { runLoad, send, startLoad } from '../helpers/load.ts';
import { sidecarOn, type OwnSidecar } from '../helpers/rules-dir.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

interface EndpointView {
  readonly url: string;
  readonly healthy: boolean;
  readonly inFlight: number;
  readonly ejected: boolean;
  readonly lastCheck: { ok: boolean; result: string } | null;
}
interface ClusterView {
  readonly name: string;
  readonly panic: boolean;
  readonly endpoints: readonly EndpointView[];
}

function rules(endpoints: readonly TestEndpoint[], cluster: string, otherClusters = ''): string {
  return `version: 1
clusters:
  primary:
    endpoints: [${endpoints.map((e) => `"${e.url}"`).join(', ')}]
    timeout: 2s
${cluster.replace(/^/gm, '    ')}
${otherClusters}
classes:
  order: { cluster: primary }
callers:
  auth: trust
  unknown: order
`;
}

async function clusterView(own: OwnSidecar): Promise<ClusterView> {
  const view = await adminJson<{ clusters: ClusterView[] }>(own.sidecar, '/admin/clusters');
  const primary = view.clusters.find((c) => c.name === 'primary');
  assert.ok(primary, 'primary in /admin/clusters');
  return primary;
}

function statuses(byStatus: ReadonlyMap<number, number>): string {
  return JSON.stringify(Object.fromEntries(byStatus));
}

describe('upstream: retries, health checks, least-request, budget', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  });
  async function endpoints(count: number): Promise<TestEndpoint[]> {
    const made = await Promise.all(Array.from({ length: count }, (_, i) => startEndpoint(`e${i}`)));
    for (const e of made) closers.push(() => e.close());
    return made;
  }
  async function sidecar(text: string): Promise<OwnSidecar> {
    const own = await sidecarOn(text);
    closers.push(() => own.close());
    return own;
  }

  /** 16 GET clients; the second endpoint is killed hard once it has served some; 300 more answers after that. */
  async function killUnderLoad(retry: string): Promise<{ failed: number; answered: number; byStatus: string; retries: number | null }> {
    const [a, b] = await endpoints(2);
    // Answers take a while, so that requests are always in flight on the endpoint when it dies.
    a.delayMs = 20;
    b.delayMs = 20;
    const own = await sidecar(rules([a, b], retry));
    const load = startLoad(own.sidecar.url, { connections: 16, durationMs: 20_000, maxRequests: 40_000, request: { path: '/members/1' } });
    await waitFor(() => b.served > 100, { timeoutMs: 15_000, message: 'traffic on both endpoints' });
    b.kill();
    const atKill = load.tally().answered;
    await waitFor(() => load.tally().answered - atKill >= 300, { timeoutMs: 15_000, intervalMs: 20, message: '300 answers after the kill' });
    const tally = await load.stop();
    const failed = tally.failures.length + (tally.answered - (tally.byStatus.get(200) ?? 0));
    const retries = metricValue(await metricsText(own.sidecar), 'sluice_retries_total', { cluster: 'primary', result: 'sent' });
    return { failed, answered: tally.answered, byStatus: statuses(tally.byStatus), retries };
  }

  test('one of two endpoints killed hard under 16 GET clients: zero failures with retries, failures without', async (t) => {
    const on = await killUnderLoad('retry: { attempts: 2, on: [connect_failure, reset], budget: 0.2 }');
    const off = await killUnderLoad('');
    t.diagnostic(`retries on:  ${on.answered} answered ${on.byStatus}, failed ${on.failed}, retries sent ${on.retries}`);
    t.diagnostic(`retries off: ${off.answered} answered ${off.byStatus}, failed ${off.failed}`);
    console.log(`endpoint killed under load — retries on: ${on.failed} failed of ${on.answered} (${on.retries} retries); retries off: ${off.failed} failed of ${off.answered}`);
    assert.equal(on.failed, 0, `with retries: ${on.byStatus}`);
    assert.ok((on.retries ?? 0) > 0, 'the requests cut by the kill were retried');
    assert.ok(off.failed > 0, `without retries the requests cut by the kill fail: ${off.byStatus}`);
  });

  test('an endpoint whose /healthz fails leaves rotation within unhealthy × interval + interval, and returns after healthy good checks', async (t) => {
    const [a, b] = await endpoints(2);
    const intervalMs = 400;
    const own = await sidecar(rules([a, b], `balance: round_robin\nhealth_check: { path: /healthz, interval: ${intervalMs}ms, timeout: 200ms, unhealthy: 3, healthy: 2 }`));
    await waitFor(async () => (await clusterView(own)).endpoints.every((e) => e.lastCheck?.ok === true), { message: 'first good checks' });

    a.healthy = false;
    const failedAt = performance.now();
    await waitFor(async () => (await clusterView(own)).endpoints[0].healthy === false, { timeoutMs: 5000, intervalMs: 10, message: 'a out of rotation' });
    const outMs = performance.now() - failedAt;
    const bound = 3 * intervalMs + intervalMs;
    const gauge = metricValue(await metricsText(own.sidecar), 'sluice_endpoint_healthy', { cluster: 'primary', endpoint: a.url });
    assert.equal(gauge, 0, 'sluice_endpoint_healthy 0 for the failing endpoint');
    const servedBefore = a.served;
    const tally = await runLoad(own.sidecar.url, { connections: 4, durationMs: 2000, maxRequests: 200, request: { path: '/members/2' } });
    assert.equal(tally.byStatus.get(200), 200);
    assert.equal(a.served - servedBefore, 0, 'no request to the endpoint out of rotation while another is healthy');

    a.healthy = true;
    const checksAtRecovery = a.checks;
    const recoveredAt = performance.now();
    await waitFor(async () => (await clusterView(own)).endpoints[0].healthy === true, { timeoutMs: 5000, intervalMs: 10, message: 'a back in rotation' });
    const backMs = performance.now() - recoveredAt;
    const goodChecks = a.checks - checksAtRecovery;
    t.diagnostic(`out of rotation after ${outMs.toFixed(0)} ms (bound ${bound} ms); back after ${backMs.toFixed(0)} ms and ${goodChecks} good checks`);
    console.log(`health check: out after ${outMs.toFixed(0)} ms (bound ${bound}), back after ${backMs.toFixed(0)} ms / ${goodChecks} checks (bound ${2 * intervalMs + intervalMs} ms)`);
    assert.ok(outMs <= bound, `left rotation after ${outMs} ms > ${bound} ms`);
    assert.ok(goodChecks >= 2, `back after ${goodChecks} checks, healthy: 2 asks for 2`);
    assert.ok(backMs <= 2 * intervalMs + intervalMs, `back after ${backMs} ms`);
    const servedAgain = a.served;
    await runLoad(own.sidecar.url, { connections: 2, durationMs: 2000, maxRequests: 20, request: { path: '/members/3' } });
    assert.ok(a.served - servedAgain >= 8, 'traffic returns to the endpoint');

    // Panic mode: every endpoint failing its checks → requests spread over all of them.
    a.healthy = false;
    b.healthy = false;
    await waitFor(async () => (await clusterView(own)).panic, { timeoutMs: 5000, message: 'panic mode' });
    const [beforeA, beforeB] = [a.served, b.served];
    const panicTally = await runLoad(own.sidecar.url, { connections: 2, durationMs: 2000, maxRequests: 40, request: { path: '/members/4' } });
    assert.equal(panicTally.byStatus.get(200), 40, 'no request refused in panic mode');
    assert.ok(a.served - beforeA >= 10 && b.served - beforeB >= 10, 'spread over all endpoints');
  });

  test('least_request: an endpoint 100× slower than the other receives at most 20% of the requests', async (t) => {
    const [fast, slow] = await endpoints(2);
    fast.delayMs = 2;
    slow.delayMs = 200;
    const own = await sidecar(rules([fast, slow], 'balance: least_request'));
    const tally = await runLoad(own.sidecar.url, { connections: 16, durationMs: 3000, maxRequests: 20_000, request: { path: '/members/5' } });
    const share = slow.served / (slow.served + fast.served);
    t.diagnostic(`fast ${fast.served}, slow ${slow.served}: slow share ${(share * 100).toFixed(2)}% (${statuses(tally.byStatus)})`);
    console.log(`least_request: slow endpoint (100× slower) got ${(share * 100).toFixed(2)}% of ${slow.served + fast.served} requests`);
    assert.equal(tally.answered, tally.byStatus.get(200));
    assert.ok(share <= 0.2, `slow endpoint share ${share}`);
  });

  test('retry budget: every endpoint answering 503 with on: ["503"], retries stay within the budget share', async (t) => {
    const [a, b] = await endpoints(2);
    a.status = 503;
    b.status = 503;
    const own = await sidecar(rules([a, b], 'retry: { attempts: 2, on: ["503"], budget: 0.2 }'));
    const tally = await runLoad(own.sidecar.url, { connections: 16, durationMs: 3000, maxRequests: 20_000, request: { path: '/members/6' } });
    const text = await metricsText(own.sidecar);
    const sent = metricValue(text, 'sluice_retries_total', { cluster: 'primary', result: 'sent' }) ?? 0;
    const exhausted = metricValue(text, 'sluice_retries_total', { cluster: 'primary', result: 'budget_exhausted' }) ?? 0;
    const reached = a.served + b.served;
    const requests = tally.answered;
    t.diagnostic(`${requests} requests, ${reached} reached the endpoints, ${sent} retries sent, ${exhausted} refused by the budget`);
    console.log(`retry budget 0.2: ${requests} requests, ${sent} retries (${((sent / requests) * 100).toFixed(1)}%), ${exhausted} budget_exhausted`);
    assert.equal(tally.byStatus.get(503), requests, 'every answer is the upstream 503');
    assert.equal(reached, requests + sent, 'each retry is one more upstream request');
    assert.ok(sent > 0, 'some retries are sent');
    assert.ok(sent <= 0.2 * requests, `retries ${sent} > 20% of ${requests}`);
    assert.ok(exhausted > 0, 'the budget refused the rest');
  });

  test('a small PUT body is buffered and retried; a POST is never retried', async () => {
    const [a, b] = await endpoints(2);
    const own = await sidecar(rules([a, b], 'balance: round_robin\nretry: { attempts: 2, on: ["503"], budget: 1 }'));
    // Warm up the budget so that a retry is in it.
    await runLoad(own.sidecar.url, { connections: 2, durationMs: 2000, maxRequests: 20, request: { path: '/warm' } });
    a.status = 503;
    const put = await Promise.all(Array.from({ length: 4 }, () => fetch(`${own.sidecar.url}/members/7`, { method: 'PUT', body: 'x'.repeat(1000) })));
    assert.deepEqual(put.map((r) => r.status), [200, 200, 200, 200]);
    for (const r of put) assert.equal(((await r.json()) as { endpoint: string }).endpoint, 'e1');
    const posts = await Promise.all(Array.from({ length: 4 }, () => send(own.sidecar.url, '/members/8', {}, 'POST')));
    assert.ok(posts.some((r) => r.status === 503), 'a POST answered 503 by an endpoint is relayed, not retried');
  });

  test('health checks survive a reload that keeps the cluster, and stop when the cluster goes away', async () => {
    const [a, b, other] = await endpoints(3);
    const check = 'health_check: { interval: 200ms, timeout: 100ms, unhealthy: 2, healthy: 2 }';
    const own = await sidecar(rules([a, b], check));
    a.healthy = false;
    await waitFor(async () => (await clusterView(own)).endpoints[0].healthy === false, { timeoutMs: 5000, message: 'a out of rotation' });

    const reload = async (text: string): Promise<void> => {
      const before = (await adminJson<{ version: string }>(own.sidecar, '/admin/rules')).version;
      await writeFile(join(own.dir, '.next'), text);
      await rename(join(own.dir, '.next'), join(own.dir, 'rules.yaml'));
      await waitFor(async () => (await adminJson<{ version: string }>(own.sidecar, '/admin/rules')).version !== before, { message: 'the new rules' });
    };
    // Another cluster added: primary is unchanged, so its checker (and a's verdict) carry on.
    await reload(rules([a, b], check, `  spare: { endpoints: ["${other.url}"] }`));
    const view = await adminJson<{ clusters: ClusterView[] }>(own.sidecar, '/admin/clusters');
    assert.deepEqual(view.clusters.map((c) => c.name).sort(), ['primary', 'spare']);
    assert.equal((await clusterView(own)).endpoints[0].healthy, false, 'the verdict survived the reload');

    // primary without health checks: the old checker stops, nothing asks /healthz any more.
    await reload(rules([a, b], ''));
    assert.equal((await clusterView(own)).endpoints[0].healthy, true, 'a new cluster starts in rotation');
    const checks = a.checks + b.checks;
    const tally = await runLoad(own.sidecar.url, { connections: 2, durationMs: 1000, maxRequests: 2000, request: { path: '/members/9' } });
    assert.ok(tally.answered > 0);
    assert.ok(a.checks + b.checks - checks <= 2, `health checks went on after their cluster was replaced: ${a.checks + b.checks - checks}`);
  });
});
