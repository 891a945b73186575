// Whole-process chaos drills (SPEC §11): a header drill aborts only the requests that carry the
// header; an admin drill of 300 ms on primary trips the rt breaker so order traffic fails over to
// backup, ends by itself at its ttl, and the breaker closes with traffic back on primary.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminJson, metricsText, metricValue } from '../helpers/admin.ts';
import { runLoad, startLoad, type Answer } from '../helpers/load.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { clusterSections } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface FaultView {
  readonly name: string;
  readonly origin: string;
  readonly time_left_ms: number | null;
  readonly active: boolean;
}
interface BreakerView {
  readonly name: string;
  readonly state: string;
}

function from(answer: Answer): string {
  const body = JSON.parse(answer.body) as { cluster?: string; reason?: string };
  return body.cluster ?? `sluice:${body.reason}`;
}

describe('chaos drills (whole process)', () => {
  let stack: Stack;
  const faults = async (): Promise<FaultView[]> => (await adminJson<{ faults: FaultView[] }>(stack.sidecar, '/admin/faults')).faults;
  const breaker = async (name: string): Promise<string> =>
    (await adminJson<{ breakers: BreakerView[] }>(stack.sidecar, '/admin/breakers')).breakers.find((b) => b.name === name)?.state ?? 'missing';

  before(async () => {
    stack = await startStack(
      (ports) => `${clusterSections(ports)}callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Member profile at order creation, class: order }
    - { id: campaign, owner: Chen Jing, team: growth-marketing, scenario: Flash-sale member lookups, class: marketing }
degrade:
  - { name: primary-slow, cluster: primary, kind: rt, threshold: 200ms, window: 500ms, min_requests: 5, open_for: 1s, action: failover }
  - { name: primary-errors, cluster: primary, kind: error_ratio, threshold: 0.5, window: 500ms, min_requests: 10, open_for: 1s, action: failover }
faults:
  - { name: header-drill, header: "x-sluice-drill: on", abort: 503 }
`,
      { prefix: 'sluice-drills-' },
    );
  });
  after(async () => {
    await stack?.close();
  });

  it('a drill by header aborts only the requests carrying it, answered fault_injected with its status', async (t) => {
    const before = stack.marketing.received.length;
    const reasons = new Map<string, number>();
    const tally = await runLoad(stack.sidecar.url, {
      connections: 8,
      durationMs: 10_000,
      maxRequests: 400,
      request: (i) => {
        const headers: Record<string, string> = { 'x-caller-account': 'campaign' };
        if (i % 2 === 0) headers['x-sluice-drill'] = 'on';
        return { path: `/members/${i}`, headers };
      },
      onAnswer: (answer) => {
        const key = `${answer.index % 2 === 0 ? 'drill' : 'plain'}:${answer.status}:${String(answer.headers['x-sluice-reason'] ?? '-')}`;
        reasons.set(key, (reasons.get(key) ?? 0) + 1);
        if (answer.index % 2 === 0) assert.equal(JSON.parse(answer.body).reason, 'fault_injected');
      },
    });
    const seen = JSON.stringify(Object.fromEntries(reasons));
    t.diagnostic(`header drill: ${seen}`);
    console.log(`header drill: ${seen}`);
    assert.equal(tally.answered, 400);
    assert.deepEqual(Object.fromEntries(reasons), { 'drill:503:fault_injected': 200, 'plain:200:-': 200 });
    assert.equal(stack.marketing.received.length - before, 200, 'aborted requests never reach the upstream');
    const injected = metricValue(await metricsText(stack.sidecar), 'sluice_faults_injected_total', { fault: 'header-drill', kind: 'abort' });
    assert.equal(injected, 200);
    const listed = (await faults()).find((f) => f.name === 'header-drill');
    assert.equal(listed?.origin, 'rules');
    assert.equal(listed?.time_left_ms, null);
  });

  it('an admin drill of 300 ms on primary opens the rt breaker, order flow fails over to backup, the drill expires and traffic returns', async (t) => {
    const seen: { at: number; from: string; status: number }[] = [];
    const load = startLoad(stack.sidecar.url, {
      connections: 16,
      ratePerSecond: 100,
      durationMs: 30_000,
      request: (i) => ({ path: `/members/${i % 100}`, headers: { 'x-caller-account': 'order-center' } }),
      onAnswer: (answer) => seen.push({ at: answer.answeredAt, from: from(answer), status: answer.status }),
    });
    try {
      await waitFor(() => seen.filter((s) => s.from === 'primary').length >= 30, { message: 'steady traffic on primary' });
      const bad = await fetch(`${stack.sidecar.adminUrl}/admin/faults`, { method: 'POST', body: JSON.stringify({ name: 'x', delay: '300ms' }) });
      assert.equal(bad.status, 400, 'ttl is required');
      assert.match(((await bad.json()) as { error: string }).error, /ttl/);

      const startedAt = performance.now();
      const posted = await adminJson<FaultView>(stack.sidecar, '/admin/faults', {
        method: 'POST',
        body: JSON.stringify({ name: 'primary-slow-drill', cluster: 'primary', delay: '300ms', ttl: '4s' }),
      });
      assert.equal(posted.origin, 'admin');
      const listed = (await faults()).find((f) => f.name === 'primary-slow-drill');
      assert.ok(listed !== undefined && listed.active && listed.time_left_ms !== null && listed.time_left_ms > 3000 && listed.time_left_ms <= 4000);

      await waitFor(async () => (await breaker('primary-slow')) !== 'closed', { timeoutMs: 5000, message: 'primary-slow open' });
      const openMs = performance.now() - startedAt;
      await waitFor(() => seen.some((s) => s.at > startedAt && s.from === 'backup'), { timeoutMs: 5000, message: 'order flow on backup' });

      await waitFor(async () => (await faults()).every((f) => f.name !== 'primary-slow-drill'), { timeoutMs: 6000, intervalMs: 50, message: 'the drill to end by itself' });
      const endedMs = performance.now() - startedAt;
      const endedAt = performance.now();
      await waitFor(async () => (await breaker('primary-slow')) === 'closed', { timeoutMs: 8000, message: 'primary-slow closed again' });
      await waitFor(() => seen.filter((s) => s.at > endedAt && s.from === 'primary').length >= 20, { timeoutMs: 8000, message: 'traffic back on primary' });
      const backMs = performance.now() - startedAt;

      const during = seen.filter((s) => s.at > startedAt);
      const failed = during.filter((s) => s.status !== 200).length;
      const onBackup = during.filter((s) => s.from === 'backup').length;
      const text = await metricsText(stack.sidecar);
      const delayed = metricValue(text, 'sluice_faults_injected_total', { fault: 'primary-slow-drill', kind: 'delay' });
      const summary = `breaker open after ${openMs.toFixed(0)} ms, drill ended after ${endedMs.toFixed(0)} ms (ttl 4000), primary back after ${backMs.toFixed(0)} ms; ${onBackup} answers from backup, ${failed} failed, ${delayed} delayed`;
      t.diagnostic(summary);
      console.log(`admin drill: ${summary}`);
      assert.ok(endedMs >= 4000 - 100 && endedMs < 6000, `drill ended after ${endedMs} ms`);
      assert.equal(failed, 0, 'failover keeps every order request answered');
      assert.ok((delayed ?? 0) > 0);
    } finally {
      await load.stop();
    }
  });

  it('an admin abort drill counts as upstream errors: the error_ratio breaker opens, order flow fails over; DELETE stops the drill', async (t) => {
    const seen: { at: number; from: string; status: number }[] = [];
    const load = startLoad(stack.sidecar.url, {
      connections: 8,
      ratePerSecond: 100,
      durationMs: 30_000,
      request: (i) => ({ path: `/members/${i % 100}`, headers: { 'x-caller-account': 'order-center' } }),
      onAnswer: (answer) => seen.push({ at: answer.answeredAt, from: from(answer), status: answer.status }),
    });
    try {
      await waitFor(async () => (await breaker('primary-errors')) === 'closed' && (await breaker('primary-slow')) === 'closed', { timeoutMs: 8000, message: 'breakers closed' });
      const startedAt = performance.now();
      await adminJson(stack.sidecar, '/admin/faults', {
        method: 'POST',
        body: JSON.stringify({ name: 'primary-abort', cluster: 'primary', abort: 500, ttl: '1m' }),
      });
      await waitFor(async () => (await breaker('primary-errors')) !== 'closed', { timeoutMs: 5000, message: 'primary-errors open' });
      const openMs = performance.now() - startedAt;
      await waitFor(() => seen.some((s) => s.at > startedAt && s.from === 'backup'), { timeoutMs: 5000, message: 'order flow on backup' });
      const aborted = seen.filter((s) => s.at > startedAt && s.from === 'sluice:fault_injected');
      assert.ok(aborted.every((s) => s.status === 500), 'aborts answer the drill status');

      const stopped = await fetch(`${stack.sidecar.adminUrl}/admin/faults/primary-abort`, { method: 'DELETE' });
      assert.equal(stopped.status, 200);
      const rulesDrill = await fetch(`${stack.sidecar.adminUrl}/admin/faults/header-drill`, { method: 'DELETE' });
      assert.equal(rulesDrill.status, 409, 'a rules drill is removed from the rules files');
      const stoppedAt = performance.now();
      await waitFor(async () => (await breaker('primary-errors')) === 'closed', { timeoutMs: 8000, message: 'primary-errors closed' });
      await waitFor(() => seen.filter((s) => s.at > stoppedAt && s.from === 'primary').length >= 10, { timeoutMs: 8000, message: 'traffic back on primary' });
      const summary = `error_ratio breaker open ${openMs.toFixed(0)} ms after the abort drill started; ${aborted.length} requests aborted before the failover`;
      t.diagnostic(summary);
      console.log(`abort drill: ${summary}`);
    } finally {
      await load.stop();
    }
  });
});
