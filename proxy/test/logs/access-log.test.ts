// The sampled access log: off by default (the shared no-op), a sampled fraction otherwise, one
// JSON line per sampled request with what was decided.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { accessLogFromEnv, createAccessLog, noAccessLog, parseAccessLogSample } from '../../src/access-log.ts';
import { silentLogger } from '../../src/log.ts';
import { rejection } from '../../src/reasons.ts';
import type { ForwardOutcome } from '../../src/upstream/forward-exchange.ts';
import { fakeContext } from '../helpers/fake-context.ts';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info', base: null }, sink), lines };
}

function outcome(status: number, error: ForwardOutcome['error'] = null): ForwardOutcome {
  return { status, upstreamMs: 12.5, error, info: fakeContext(), endpoint: 'http://127.0.0.1:1', failedAttempts: 0, failedAttemptsMs: 0 };
}

describe('access log', () => {
  it('is the shared no-op when off: unset, empty or 0', () => {
    assert.equal(parseAccessLogSample(undefined), 0);
    assert.equal(parseAccessLogSample(''), 0);
    assert.equal(accessLogFromEnv(silentLogger, {}), noAccessLog);
    assert.equal(accessLogFromEnv(silentLogger, { SLUICE_ACCESS_LOG_SAMPLE: '0' }), noAccessLog);
    assert.notEqual(accessLogFromEnv(silentLogger, { SLUICE_ACCESS_LOG_SAMPLE: '0.01' }), noAccessLog);
  });

  it('refuses a sample that is not a fraction in 0..1', () => {
    for (const text of ['abc', '-0.1', '1.5', 'NaN', 'Infinity', '50%']) {
      assert.throws(() => parseAccessLogSample(text), /SLUICE_ACCESS_LOG_SAMPLE: expected a fraction between 0 and 1/, text);
    }
    assert.equal(parseAccessLogSample('0.25'), 0.25);
    assert.equal(parseAccessLogSample('1'), 1);
  });

  it('logs the sampled fraction of requests', () => {
    const { log, lines } = capturingLogger();
    const draws = [0.1, 0.3, 0.24, 0.9, 0.0, 0.25];
    let i = 0;
    const access = createAccessLog(log, 0.25, () => draws[i++]);
    for (let n = 0; n < draws.length; n++) access.forwarded(fakeContext({ url: `/members/${n}` }), outcome(200));
    assert.deepEqual(
      lines.map((l) => l.path),
      ['/members/0', '/members/2', '/members/4'],
    );
  });

  it('names account, class, cluster, method, path without query, status and times of a forwarded request', () => {
    const { log, lines } = capturingLogger();
    const access = createAccessLog(log, 1, () => assert.fail('sample 1 draws nothing'));
    const ctx = fakeContext({ method: 'POST', url: '/members/7/points?x=1', headers: { 'x-request-id': 'r-1' } });
    ctx.accountId = 'booking-app';
    ctx.className = 'order';
    ctx.cluster = 'backup';
    ctx.startedAt = performance.now() - 20;
    access.forwarded(ctx, outcome(504, 'timeout'));
    assert.equal(lines.length, 1);
    const { time, ms, ...line } = lines[0];
    assert.equal(typeof time, 'number');
    assert.ok(typeof ms === 'number' && ms >= 20 && ms < 10_000, `ms ${String(ms)}`);
    assert.deepEqual(line, {
      level: 30,
      event: 'access',
      method: 'POST',
      path: '/members/7/points',
      account: 'booking-app',
      class: 'order',
      cluster: 'backup',
      status: 504,
      reason: null,
      shadowed: false,
      upstream_ms: 12.5,
      upstream_error: 'timeout',
      client: '127.0.0.1',
      request_id: 'r-1',
      msg: 'POST /members/7/points 504',
    });
  });

  it('names the reason and status of a refusal, before identification included', () => {
    const { log, lines } = capturingLogger();
    const access = createAccessLog(log, 1);
    access.rejected(fakeContext({ url: '/members/1' }), rejection('unknown_caller'));
    const ctx = fakeContext({ url: '/members/2' });
    ctx.accountId = 'campaign';
    ctx.className = 'marketing';
    access.rejected(ctx, rejection('account_quota', 100));
    assert.deepEqual(
      lines.map((l) => [l.account, l.class, l.cluster, l.status, l.reason, l.upstream_ms]),
      [
        ['unknown', 'none', 'none', 401, 'unknown_caller', null],
        ['campaign', 'marketing', 'none', 429, 'account_quota', null],
      ],
    );
  });
});
