// The fault-drill guard: filters, percentages, the end of a drill, and what the guards before it see.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePostedFault } from '../../src/faults/parse-fault.ts';
import { buildFaultGuard } from '../../src/guards/fault.ts';
import { Metrics } from '../../src/metrics.ts';
import { statusOf, type Rejection } from '../../src/reasons.ts';
import type { FaultRules } from '../../src/rules/types.ts';
import { fakeContext } from '../helpers/fake-context.ts';
import { makeRules } from '../helpers/rules-fixture.ts';

function fault(over: Partial<FaultRules>): FaultRules {
  return {
    name: 'drill',
    cluster: null,
    className: null,
    accounts: null,
    header: null,
    delayMs: 0,
    delayPercent: 0,
    abortStatus: null,
    abortPercent: 0,
    until: null,
    ...over,
  };
}

function ctxFor(cluster: string, className: string, account: string, headers: Record<string, string> = {}) {
  const ctx = fakeContext({ headers });
  ctx.cluster = cluster;
  ctx.className = className;
  ctx.accountId = account;
  return ctx;
}

describe('fault guard', () => {
  it('is absent when there are no drills', () => {
    assert.equal(buildFaultGuard([], new Metrics({ defaultMetrics: false })), null);
  });

  it('aborts only what matches every filter, with the drill status, settling as an upstream error', () => {
    const guard = buildFaultGuard(
      [fault({ cluster: 'primary', className: 'order', accounts: ['a1'], header: { name: 'x-sluice-drill', value: 'on' }, abortStatus: 502, abortPercent: 100 })],
      new Metrics({ defaultMetrics: false }),
    );
    assert.ok(guard !== null);
    const on = { 'x-sluice-drill': 'on' };
    const verdict = guard.check(ctxFor('primary', 'order', 'a1', on)) as Rejection;
    assert.equal(verdict.reason, 'fault_injected');
    assert.equal(statusOf(verdict), 502);
    assert.deepEqual(verdict.settlesAs, { status: 502, upstreamMs: 0, error: 'fault' });
    assert.equal(guard.check(ctxFor('backup', 'order', 'a1', on)), null, 'other cluster');
    assert.equal(guard.check(ctxFor('primary', 'marketing', 'a1', on)), null, 'other class');
    assert.equal(guard.check(ctxFor('primary', 'order', 'a2', on)), null, 'other account');
    assert.equal(guard.check(ctxFor('primary', 'order', 'a1', { 'x-sluice-drill': 'off' })), null, 'other header value');
    assert.equal(guard.check(ctxFor('primary', 'order', 'a1')), null, 'no header');
  });

  it('applies its percentages, counts what it injected, and adds the delay to ctx.injectedMs', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let draw = 0;
    // Draws 0, 0.1, ..., 0.9 repeating: 30% of them fall under 30.
    const guard = buildFaultGuard([fault({ abortStatus: 503, abortPercent: 30 })], metrics, () => (draw++ % 10) / 10);
    let aborted = 0;
    for (let i = 0; i < 100; i++) if (guard?.check(ctxFor('primary', 'order', 'a')) !== null) aborted++;
    assert.equal(aborted, 30);
    assert.equal(metrics.faultsInjected.labels('drill', 'abort').value, 30);

    const slow = buildFaultGuard([fault({ delayMs: 20, delayPercent: 100 })], metrics);
    const ctx = ctxFor('primary', 'order', 'a');
    const started = performance.now();
    assert.equal(await slow?.check(ctx), null);
    assert.ok(performance.now() - started >= 19);
    assert.equal(ctx.injectedMs, 20);
  });

  it('a drill past its end matches nothing', () => {
    const guard = buildFaultGuard([fault({ abortStatus: 503, abortPercent: 100, until: Date.now() - 1 })], new Metrics({ defaultMetrics: false }));
    assert.equal(guard?.check(ctxFor('primary', 'order', 'a')), null);
  });
});

describe('POST /admin/faults body', () => {
  const rules = makeRules();
  it('takes a fault entry with a required ttl', () => {
    const parsed = parsePostedFault('{"name":"d","cluster":"primary","delay":"300ms","ttl":"5m"}', rules, 1000);
    assert.ok(typeof parsed !== 'string', String(parsed));
    assert.equal(parsed.until, 1000 + 300_000);
    assert.equal(parsed.delayMs, 300);
    assert.equal(parsed.delayPercent, 100);
  });
  it('says what is wrong in one line', () => {
    assert.equal(parsePostedFault('{"name":"d","delay":"300ms"}', rules), "fault: missing required key 'ttl'");
    assert.equal(parsePostedFault('{"name":"d","ttl":"1m"}', rules), 'fault: needs delay or abort (or both)');
    assert.equal(parsePostedFault('{"name":"d","abort":503,"ttl":"1m","until":"x"}', rules), "fault: unknown key 'until'");
    assert.equal(parsePostedFault('{"name":"d","abort":503,"ttl":"soon"}', rules), 'fault.ttl: must be a duration like 250ms, 2s or 1m');
    assert.equal(parsePostedFault('{"name":"d","abort":503,"ttl":"1m","cluster":"nowhere"}', rules), "fault.cluster: unknown cluster 'nowhere'");
    assert.equal(parsePostedFault('{"name":"d","abort":200,"ttl":"1m"}', rules), 'fault.abort: must be >= 400');
    assert.equal(parsePostedFault('not json', rules).toString().startsWith('body must be JSON'), true);
  });
});
