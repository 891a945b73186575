// Whole-process: callers are identified and routed by class to their cluster; unknown callers
// are refused; upstream failures get sluice's 502/504 answers.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { freePort } from '../helpers/servers.ts';
import { memberServiceRules, type FakeCluster } from '../helpers/upstreams.ts';

describe('routing by caller class (whole process)', () => {
  let stack: Stack;
  let primary: FakeCluster;
  let marketing: FakeCluster;
  let backup: FakeCluster;
  let sidecar: SidecarProcess;

  before(async () => {
    stack = await startStack((ports) => memberServiceRules(ports), { prefix: 'sluice-routing-' });
    ({ primary, marketing, backup, sidecar } = stack);
  });

  after(async () => {
    await stack?.close();
  });

  it('sends order-class callers to primary and marketing-class callers to the marketing cluster', async () => {
    const order = await fetch(`${sidecar.url}/members/42`, { headers: { 'x-caller-account': 'order-center' } });
    assert.equal(order.status, 200);
    assert.deepEqual(await order.json(), { cluster: 'primary', url: '/members/42' });
    const campaign = await fetch(`${sidecar.url}/members/42?fields=level`, { headers: { 'x-caller-account': 'campaign' } });
    assert.equal(campaign.status, 200);
    assert.deepEqual(await campaign.json(), { cluster: 'marketing', url: '/members/42?fields=level' });
    assert.equal(backup.received.length, 0);
  });

  it('refuses a missing or unregistered account with 401 unknown_caller', async () => {
    for (const headers of [{}, { 'x-caller-account': 'nobody' }]) {
      const res = await fetch(`${sidecar.url}/members/1`, { headers });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-sluice-reason'), 'unknown_caller');
      const body = (await res.json()) as { reason: string };
      assert.equal(body.reason, 'unknown_caller');
    }
  });

  it('passes x-forwarded-for and x-request-id on to the upstream', async () => {
    const before = primary.received.length;
    await (await fetch(`${sidecar.url}/members/7`, { headers: { 'x-caller-account': 'order-center', 'x-request-id': 'req-123', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } })).text();
    const seen = primary.received[before];
    assert.equal(seen.headers['x-request-id'], 'req-123');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('answers 504 upstream_timeout when the upstream is slower than the cluster timeout', async () => {
    primary.delayMs = 3000;
    try {
      const started = performance.now();
      const res = await fetch(`${sidecar.url}/members/9`, { headers: { 'x-caller-account': 'order-center' } });
      assert.equal(res.status, 504);
      assert.equal(((await res.json()) as { reason: string }).reason, 'upstream_timeout');
      assert.ok(performance.now() - started < 2500, 'answered at the 1 s timeout, not after the upstream');
    } finally {
      primary.delayMs = 0;
    }
  });

  it('answers 502 upstream_unavailable when the upstream refuses connections', async () => {
    const deadDir = await mkdtemp(join(tmpdir(), 'sluice-dead-'));
    // The sidecar listens on ports the kernel picks after the dead one was released, and may be
    // handed that very port (its admin then answers 404): pick again until the two differ.
    let other: SidecarProcess | null = null;
    for (let attempt = 0; attempt < 5 && other === null; attempt++) {
      const dead = await freePort();
      await writeFile(join(deadDir, 'rules.yaml'), memberServiceRules({ primary: dead, marketing: marketing.port, backup: backup.port }));
      const started = await startSidecar(deadDir);
      if (started.port !== dead && started.adminPort !== dead) other = started;
      else await started.stop();
    }
    assert.ok(other !== null, 'a dead port apart from the sidecar\'s own');
    try {
      const res = await fetch(`${other.url}/members/9`, { headers: { 'x-caller-account': 'order-center' } });
      assert.equal(res.status, 502);
      assert.equal(((await res.json()) as { reason: string }).reason, 'upstream_unavailable');
    } finally {
      await other.stop();
      await rm(deadDir, { recursive: true, force: true });
    }
  });

  it('counts answers in sluice_requests_total with bounded labels', async () => {
    const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    assert.match(metrics, /sluice_requests_total\{account="order-center",class="order",cluster="primary",code="200"\} [1-9]/);
    assert.match(metrics, /sluice_requests_total\{account="unknown",class="none",cluster="none",code="401"\} [1-9]/);
    assert.doesNotMatch(metrics, /nobody|members\/42/);
  });
});
