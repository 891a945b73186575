import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { RetryBudget } from '../../src/upstream/retry-budget.ts';

describe('retry budget', () => {
  test('retries stay within the share of the requests of the last 10 s', () => {
    const clock = new ManualClock(0);
    const budget = new RetryBudget(0.2, clock);
    let granted = 0;
    for (let i = 0; i < 100; i++) {
      budget.request();
      if (budget.tryRetry()) granted++;
    }
    assert.equal(granted, 20);
    assert.equal(budget.tryRetry(), false);
  });

  test('the window slides by the second: old requests stop counting after 10 s', () => {
    const clock = new ManualClock(0);
    const budget = new RetryBudget(0.5, clock);
    for (let i = 0; i < 100; i++) budget.request();
    for (let i = 0; i < 50; i++) assert.equal(budget.tryRetry(), true);
    assert.equal(budget.tryRetry(), false);
    clock.advance(5000);
    assert.deepEqual(budget.window(), { requests: 100, retries: 50 });
    clock.advance(5000);
    // The second holding the requests and retries has left the window.
    assert.deepEqual(budget.window(), { requests: 0, retries: 0 });
    assert.equal(budget.tryRetry(), false, 'no requests, no retries');
    clock.advance(60_000);
    budget.request();
    assert.equal(budget.tryRetry(), false, '1 retry > 0.5 × 1 request would exceed the share');
    budget.request();
    assert.equal(budget.tryRetry(), true, '1 retry ≤ 0.5 × 2 requests');
  });
});
