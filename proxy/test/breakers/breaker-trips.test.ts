// When each kind of degrade rule opens, half-opens and closes, on an injected clock: exact and instant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { breakerHarness, breakerRules, degradeRule, fail, ok } from '../helpers/breaker-rules.ts';

const primaryFails = (cluster: string) => (cluster === 'primary' ? fail() : ok());

test('error_ratio: a primary answering 500s opens within two windows, order fails over to backup, probes close it', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_ratio', threshold: 0.5, minRequests: 20, openForMs: 10_000, probes: 3 })],
  }));
  const breaker = h.breakers.get('primary-errors');
  assert.ok(breaker);
  const start = h.clock.now();
  let openedAfter = -1;
  for (let step = 0; step < 40 && openedAfter < 0; step++) {
    h.send('order', primaryFails);
    h.send('order', primaryFails);
    if (breaker.state === 'open') openedAfter = h.clock.now() - start;
    h.advance(50);
  }
  assert.ok(openedAfter >= 0 && openedAfter < 2000, `opened after ${openedAfter} ms`);
  assert.deepEqual(h.transitions, ['primary-errors: closed -> open']);

  for (let i = 0; i < 10; i++) assert.equal(h.send('order', primaryFails), 'backup');

  // Open for exactly open_for, then half-open.
  h.advance(breaker.since + 10_000 - 1 - h.clock.now());
  assert.equal(breaker.state, 'open');
  assert.equal(h.send('order', ok()), 'backup');
  h.advance(1);
  assert.equal(breaker.state, 'half-open');

  // Three probes go to primary; a fourth request, while they are out, fails over.
  const probes = [h.decide('order'), h.decide('order'), h.decide('order')];
  for (const probe of probes) {
    assert.equal(probe.verdict, null);
    assert.equal(probe.ctx.cluster, 'primary');
    assert.equal(h.breakers.isProbe(probe.ctx), true);
  }
  const fourth = h.decide('order');
  assert.equal(fourth.ctx.cluster, 'backup');
  assert.equal(h.breakers.isProbe(fourth.ctx), false);

  // Slow answers still count: the probes settle long after they were taken.
  h.advance(1500);
  for (const probe of probes.slice(0, 2)) h.breakers.settle(probe.ctx, 1500, false);
  assert.equal(breaker.state, 'half-open');
  h.breakers.settle(probes[2].ctx, 1500, false);
  assert.equal(breaker.state, 'closed');
  assert.equal(h.send('order', ok()), 'primary');
  assert.deepEqual(h.transitions, [
    'primary-errors: closed -> open',
    'primary-errors: open -> half-open',
    'primary-errors: half-open -> closed',
  ]);
});

test('rt: 3x threshold opens after one suspect and one confirming window, not sooner, and closes after recovery', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-slow', cluster: 'primary', kind: 'rt', threshold: 200, minRequests: 20, openForMs: 5000, probes: 2 })],
  }));
  const breaker = h.breakers.get('primary-slow');
  assert.ok(breaker);
  const slow = () => ok(600);
  // Window 1 (created at t=1000): 30 slow calls.
  for (let i = 0; i < 30; i++) {
    assert.equal(h.send('order', slow), 'primary');
    h.advance(33);
  }
  h.advance(2000 - 1 - h.clock.now());
  assert.equal(breaker.state, 'closed');
  h.advance(1); // window 1 closes: suspect
  assert.equal(breaker.state, 'closed', 'one slow window only makes the breaker suspect');
  assert.equal(breaker.describe().window.suspect, true);
  assert.equal(breaker.describe().window.last.avg_rt_ms, 600);
  // Window 2: slow again, still closed until it ends.
  for (let i = 0; i < 30; i++) {
    assert.equal(h.send('order', slow), 'primary');
    h.advance(33);
  }
  h.advance(3000 - 1 - h.clock.now());
  assert.equal(breaker.state, 'closed', 'no decision before the confirming window ends');
  h.advance(1);
  assert.equal(breaker.state, 'open');
  assert.match(breaker.reason, /average rt 600ms > 200ms/);
  assert.equal(h.send('order', ok()), 'backup');

  // Recovery: after open_for, two fast probes close it.
  h.advance(5000);
  assert.equal(breaker.state, 'half-open');
  assert.equal(h.send('order', () => ok(50)), 'primary');
  assert.equal(h.send('order', () => ok(50)), 'primary');
  assert.equal(breaker.state, 'closed');
  assert.equal(h.send('order', ok()), 'primary');
});

test('rt: slow windows that are not consecutive never open the breaker', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-slow', cluster: 'primary', kind: 'rt', threshold: 200, minRequests: 10 })],
  }));
  const breaker = h.breakers.get('primary-slow');
  assert.ok(breaker);
  const windowOf = (latencyMs: number, calls: number) => {
    for (let i = 0; i < calls; i++) h.send('order', () => ok(latencyMs));
    h.advance(1000);
  };
  windowOf(600, 20); // suspect
  windowOf(50, 20); // fast: clears
  windowOf(600, 20); // suspect again
  windowOf(600, 5); // too few calls to decide: breaks the run
  windowOf(600, 20); // suspect
  h.advance(1000); // an empty window: breaks the run
  windowOf(600, 20);
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(h.transitions, []);
  windowOf(600, 20); // the confirming window
  assert.equal(breaker.state, 'open');
});

test('rt: a window ticker that runs late does not break a run of slow windows while calls keep coming', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-slow', cluster: 'primary', kind: 'rt', threshold: 200, minRequests: 10 })],
  }));
  const breaker = h.breakers.get('primary-slow');
  assert.ok(breaker);
  // Two windows of slow calls and no tick between them: the event loop was too busy for the
  // ticker's interval. The calls themselves close the first window when the second begins.
  for (let i = 0; i < 20; i++) {
    h.send('order', () => ok(600));
    h.clock.advance(100);
  }
  assert.equal(breaker.state, 'closed', 'the second slow window has only just ended');
  h.advance(10); // the ticker runs at last
  assert.equal(breaker.state, 'open');
});

test('rt: a half-open probe slower than the threshold re-opens the breaker', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-slow', cluster: 'primary', kind: 'rt', threshold: 200, openForMs: 1000, probes: 1 })],
  }));
  const breaker = h.breakers.get('primary-slow');
  assert.ok(breaker);
  breaker.force('open');
  h.advance(1000);
  assert.equal(breaker.state, 'half-open');
  h.send('order', () => ok(450));
  assert.equal(breaker.state, 'open');
  assert.match(breaker.reason, /probe took 450ms > 200ms/);
});

test('error_count: opens once errors reach the threshold and the window has min_requests calls', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 5, minRequests: 10 })],
  }));
  const breaker = h.breakers.get('primary-errors');
  assert.ok(breaker);
  for (let i = 0; i < 9; i++) h.send('order', primaryFails);
  assert.equal(breaker.state, 'closed', '9 errors, but fewer than min_requests calls');
  h.send('order', ok());
  assert.equal(breaker.state, 'open');
  assert.match(breaker.reason, /9 errors >= 5 in 10 calls/);
});

test('error_count: errors below the threshold in every window never open it', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 5, minRequests: 1 })],
  }));
  for (let w = 0; w < 5; w++) {
    for (let i = 0; i < 4; i++) h.send('order', primaryFails);
    for (let i = 0; i < 50; i++) h.send('order', ok());
    h.advance(1000);
  }
  assert.equal(h.breakers.get('primary-errors')?.state, 'closed');
});

test('min_requests: a window with fewer calls decides nothing, however bad', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_ratio', threshold: 0.5, minRequests: 20 })],
  }));
  const breaker = h.breakers.get('primary-errors');
  assert.ok(breaker);
  for (let w = 0; w < 3; w++) {
    for (let i = 0; i < 19; i++) assert.equal(h.send('order', primaryFails), 'primary');
    h.advance(1000);
    assert.equal(breaker.state, 'closed');
  }
  for (let i = 0; i < 20; i++) h.send('order', primaryFails);
  assert.equal(breaker.state, 'open');
});

test('error_ratio: a ratio just under the threshold stays closed, at the threshold it opens', () => {
  const rule = degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_ratio', threshold: 0.25, minRequests: 20 });
  const h = breakerHarness(breakerRules({ degrade: [rule] }));
  const breaker = h.breakers.get('primary-errors');
  assert.ok(breaker);
  // 5 errors in 21 calls: 0.238 < 0.25.
  for (let i = 0; i < 16; i++) h.send('order', ok());
  for (let i = 0; i < 5; i++) h.send('order', primaryFails);
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.describe().window.current.errors, 5);
  h.send('order', primaryFails); // 6/22 = 0.27
  assert.equal(breaker.state, 'open');
});

test('a failed probe re-opens the breaker for a full open_for', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 3, minRequests: 3, openForMs: 4000, probes: 3 })],
  }));
  const breaker = h.breakers.get('primary-errors');
  assert.ok(breaker);
  for (let i = 0; i < 3; i++) h.send('order', primaryFails);
  assert.equal(breaker.state, 'open');
  h.advance(4000);
  assert.equal(breaker.state, 'half-open');
  assert.equal(h.send('order', ok()), 'primary');
  assert.equal(h.send('order', primaryFails), 'primary');
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.trips, 2);
  h.advance(3999);
  assert.equal(h.send('order', ok()), 'backup');
  assert.equal(breaker.describe().next_probe_in_ms, 1);
  h.advance(1);
  assert.equal(breaker.state, 'half-open');
  assert.deepEqual(h.transitions, [
    'primary-errors: closed -> open',
    'primary-errors: open -> half-open',
    'primary-errors: half-open -> open',
    'primary-errors: open -> half-open',
  ]);
});

test('a late answer from before the re-open does not settle the new half-open probes', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 1, minRequests: 1, openForMs: 1000, probes: 2 })],
  }));
  const breaker = h.breakers.get('primary-errors');
  assert.ok(breaker);
  breaker.force('half-open');
  const early = h.decide('order');
  h.send('order', primaryFails); // the second probe fails: open again
  h.advance(1000);
  assert.equal(breaker.state, 'half-open');
  h.breakers.settle(early.ctx, 10, false); // a probe of the previous half-open
  const probe = h.decide('order');
  h.breakers.settle(probe.ctx, 10, false);
  assert.equal(breaker.state, 'half-open', 'one fresh success out of two probes');
  h.send('order', ok());
  assert.equal(breaker.state, 'closed');
});

test('probes never settled are forgotten after the cluster timeout, so half-open does not stick', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 1, minRequests: 1, probes: 2 })],
  }));
  const breaker = h.breakers.get('primary-errors');
  assert.ok(breaker);
  breaker.force('half-open');
  h.decide('order');
  h.decide('order');
  assert.equal(h.decide('order').ctx.cluster, 'backup');
  h.advance(3000); // cluster timeout 2000 + 1000
  assert.equal(h.decide('order').ctx.cluster, 'backup');
  h.advance(1);
  const fresh = h.decide('order');
  assert.equal(fresh.ctx.cluster, 'primary');
  assert.equal(h.breakers.isProbe(fresh.ctx), true);
});

test('a probe handed back by refund() frees its slot', () => {
  const h = breakerHarness(breakerRules({
    degrade: [degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 1, minRequests: 1, probes: 1 })],
  }));
  h.breakers.get('primary-errors')?.force('half-open');
  const probe = h.decide('order');
  assert.equal(probe.ctx.cluster, 'primary');
  assert.equal(h.decide('order').ctx.cluster, 'backup');
  h.guard.refund?.(probe.ctx);
  assert.equal(h.breakers.isProbe(probe.ctx), false);
  assert.equal(h.decide('order').ctx.cluster, 'primary');
});
