// Retried attempts count for the cluster's breakers like any other call (SPEC §10), and an
// injected delay adds to the latency the breaker sees (SPEC §11).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Outcome } from '../../src/request-context.ts';
import { breakerHarness, breakerRules, degradeRule } from '../helpers/breaker-rules.ts';

test('each failed attempt of a retried request is one more failed call; the final one is measured alone', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_ratio', threshold: 0.9, minRequests: 100 })],
  }));
  const { ctx, verdict } = h.decide('order');
  assert.equal(verdict, null);
  const outcome: Outcome = { status: 200, upstreamMs: 70, error: null, failedAttempts: 2, failedAttemptsMs: 40 };
  h.guard.settle?.(ctx, outcome);
  const window = h.breakers.get('primary-errors')?.describe().window.current;
  assert.equal(window?.calls, 3);
  assert.equal(window?.errors, 2);
  // Two failed attempts of 20 ms each and the final one of 70 - 40 = 30 ms.
  assert.ok(Math.abs((window?.avg_rt_ms ?? 0) - (20 + 20 + 30) / 3) < 0.01, `avg ${window?.avg_rt_ms}`);
});

test('an injected delay counts as upstream latency', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-slow', cluster: 'primary', kind: 'rt', threshold: 200, minRequests: 100 })],
  }));
  const { ctx } = h.decide('order');
  ctx.injectedMs = 300;
  h.guard.settle?.(ctx, { status: 200, upstreamMs: 5, error: null });
  assert.equal(h.breakers.get('primary-slow')?.describe().window.current.avg_rt_ms, 305);
});
