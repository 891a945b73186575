// Breaker state across reloads, the sluice_breaker_state gauge, /admin/breakers descriptions and
// the single shared window ticker.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { Breaker } from '../../src/breakers/breaker.ts';
import { WindowClock } from '../../src/breakers/window-clock.ts';
import { ManualClock, systemClock } from '../../src/clock.ts';
import { buildBreakerGuard } from '../../src/guards/breaker.ts';
import { Metrics } from '../../src/metrics.ts';
import { StateRegistry } from '../../src/state-registry.ts';
import { breakerHarness, breakerRules, degradeRule, fail, ok } from '../helpers/breaker-rules.ts';
import { waitFor } from '../helpers/wait-for.ts';

const primaryErrors = degradeRule({ name: 'primary-errors', cluster: 'primary', kind: 'error_count', threshold: 2, minRequests: 2 });
const backupSlow = degradeRule({ name: 'backup-slow', cluster: 'backup', kind: 'rt', threshold: 300 });

async function gaugeValues(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.breakerState.get()).values) out[`${v.labels.breaker}@${v.labels.cluster}`] = v.value;
  return out;
}

test('breaker state survives a reload when its rule is unchanged, and starts fresh when it changed', async () => {
  const h = breakerHarness(breakerRules({ degrade: [primaryErrors, backupSlow] }));
  const before = h.breakers.get('primary-errors');
  assert.ok(before);
  h.send('order', fail());
  h.send('order', fail());
  assert.equal(before.state, 'open');

  h.rebuild(breakerRules({ degrade: [primaryErrors, backupSlow] }));
  assert.equal(h.breakers.get('primary-errors'), before);
  assert.equal(before.state, 'open');
  assert.equal(h.send('order', ok()), 'backup');
  assert.equal(h.windowClock.size, 2);

  h.rebuild(breakerRules({ degrade: [{ ...primaryErrors, threshold: 5 }, backupSlow] }));
  const after = h.breakers.get('primary-errors');
  assert.notEqual(after, before);
  assert.equal(after?.state, 'closed');
  assert.equal(h.send('order', ok()), 'primary');
  assert.equal(h.windowClock.size, 2, 'the replaced breaker left the ticker');
  assert.deepEqual(await gaugeValues(h.metrics), { 'primary-errors@primary': 0, 'backup-slow@backup': 0 });

  h.rebuild(breakerRules({ degrade: [backupSlow] }));
  assert.equal(h.windowClock.size, 1);
  assert.deepEqual(await gaugeValues(h.metrics), { 'backup-slow@backup': 0 }, 'a removed rule leaves no series');
});

test('a refused reload keeps the breakers in force and drops the ones it made', () => {
  const clock = new ManualClock();
  const windowClock = new WindowClock(clock, { timer: false });
  const metrics = new Metrics({ defaultMetrics: false });
  const registry = new StateRegistry();
  const deps = { clock, metrics, registry, windowClock };
  registry.begin();
  const first = buildBreakerGuard(breakerRules({ degrade: [primaryErrors] }), deps);
  registry.commit();
  registry.begin();
  buildBreakerGuard(breakerRules({ degrade: [{ ...primaryErrors, openForMs: 1 }] }), deps);
  assert.equal(windowClock.size, 2);
  registry.abort();
  assert.equal(windowClock.size, 1);
  first.breakers.record('primary', 5, true);
  first.breakers.record('primary', 5, true);
  assert.equal(first.breakers.get('primary-errors')?.state, 'open');
});

test('sluice_breaker_state follows every transition: 0 closed, 1 open, 2 half-open', async () => {
  const h = breakerHarness(breakerRules({ degrade: [{ ...primaryErrors, openForMs: 1000, probes: 1 }] }));
  const key = 'primary-errors@primary';
  assert.equal((await gaugeValues(h.metrics))[key], 0);
  h.send('order', fail());
  h.send('order', fail());
  assert.equal((await gaugeValues(h.metrics))[key], 1);
  h.advance(1000);
  assert.equal((await gaugeValues(h.metrics))[key], 2);
  h.send('order', ok());
  assert.equal((await gaugeValues(h.metrics))[key], 0);
  const text = await h.metrics.registry.getSingleMetricAsString('sluice_breaker_state');
  assert.match(text, /^sluice_breaker_state\{breaker="primary-errors",cluster="primary"\} 0$/m);
});

test('describe() gives /admin/breakers the state, since, window stats and next probe', () => {
  const h = breakerHarness(breakerRules({ degrade: [{ ...primaryErrors, threshold: 3, minRequests: 3, openForMs: 5000 }] }));
  h.send('order', () => ok(40));
  h.send('order', () => fail(20));
  let [d] = h.breakers.describe();
  assert.equal(d.state, 'closed');
  assert.equal(d.next_probe_in_ms, null);
  assert.deepEqual(d.window.current, { calls: 2, errors: 1, avg_rt_ms: 30, error_ratio: 0.5 });
  h.advance(1000);
  [d] = h.breakers.describe();
  assert.deepEqual(d.window.last, { calls: 2, errors: 1, avg_rt_ms: 30, error_ratio: 0.5 });
  assert.equal(d.window.current.calls, 0);
  for (let i = 0; i < 3; i++) h.send('order', fail());
  h.advance(1200);
  [d] = h.breakers.describe();
  assert.equal(d.state, 'open');
  assert.equal(d.since_ms, 1200);
  assert.equal(d.next_probe_in_ms, 3800);
  assert.equal(d.trips, 1);
  assert.match(d.reason, /3 errors >= 3 in 3 calls/);
  assert.ok(Math.abs(Date.parse(d.since) - (Date.now() - 1200)) < 1000);
  assert.deepEqual({ name: d.name, cluster: d.cluster, kind: d.kind, action: d.action, shadow: d.shadow }, {
    name: 'primary-errors', cluster: 'primary', kind: 'error_count', action: 'failover', shadow: false,
  });
  h.advance(3800);
  h.decide('order');
  [d] = h.breakers.describe();
  assert.equal(d.state, 'half-open');
  assert.deepEqual(d.probes, { allowed: 3, in_flight: 1, succeeded: 0 });
  assert.equal(d.next_probe_in_ms, 0);
});

test('many breakers share one interval timer', (t) => {
  const setIntervalSpy = mock.method(globalThis, 'setInterval');
  t.after(() => setIntervalSpy.mock.restore());
  const windowClock = new WindowClock(systemClock, { resolutionMs: 20 });
  const breakers = Array.from({ length: 200 }, (_, i) =>
    new Breaker(degradeRule({ name: `b${i}`, cluster: 'primary', kind: 'error_ratio', threshold: 0.5 }), systemClock, windowClock));
  assert.equal(setIntervalSpy.mock.callCount(), 1);
  for (const breaker of breakers) breaker.dispose();
  assert.equal(windowClock.size, 0);
  windowClock.dispose();
});

test('the shared ticker rotates windows on real time', async () => {
  const windowClock = new WindowClock(systemClock, { resolutionMs: 10 });
  const breaker = new Breaker(degradeRule({ name: 'b', cluster: 'primary', kind: 'rt', threshold: 100, windowMs: 50 }), systemClock, windowClock);
  try {
    breaker.record(30, false);
    breaker.record(50, false);
    await waitFor(() => breaker.describe().window.last.calls === 2, { timeoutMs: 5000, message: 'window rotation' });
    assert.equal(breaker.describe().window.last.avg_rt_ms, 40);
  } finally {
    breaker.dispose();
    windowClock.dispose();
  }
});

test('the default window ticker lives in the registry and stops when no degrade rule remains', () => {
  const clock = new ManualClock();
  const metrics = new Metrics({ defaultMetrics: false });
  const registry = new StateRegistry();
  registry.begin();
  const first = buildBreakerGuard(breakerRules({ degrade: [primaryErrors] }), { clock, metrics, registry });
  registry.commit();
  registry.begin();
  const second = buildBreakerGuard(breakerRules({ degrade: [primaryErrors, backupSlow] }), { clock, metrics, registry });
  registry.commit();
  assert.ok(first.breakers.windowClock);
  assert.equal(second.breakers.windowClock, first.breakers.windowClock);
  assert.equal(first.breakers.windowClock.size, 2);
  registry.begin();
  buildBreakerGuard(breakerRules(), { clock, metrics, registry });
  registry.commit();
  assert.equal(first.breakers.windowClock.size, 0);
  assert.equal(registry.size, 0);
});
