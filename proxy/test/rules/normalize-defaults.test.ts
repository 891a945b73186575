// What an operator gets for every setting left out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRules } from '../../src/rules/load.ts';
import { parseDuration, parseRate } from '../../src/rules/units.ts';
import { fixture } from './fixtures.ts';

test('a minimal file gets the documented defaults', async () => {
  const result = await loadRules(fixture('minimal.yaml'));
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  const { rules } = result;
  assert.deepEqual(rules.server, { listen: '0.0.0.0:9080', admin: '127.0.0.1:9901', adminTokenEnv: null, metricsPublic: false, headersTimeoutMs: 10_000, maxHeaders: 100 });
  assert.deepEqual(rules.store, { kind: 'memory', url: null, nodes: [], onFailure: 'local', instances: 1 });
  // The trailing slash of an endpoint is dropped so paths join cleanly.
  assert.deepEqual(rules.clusters.get('primary'), {
    name: 'primary',
    endpoints: ['http://127.0.0.1:8081'],
    timeoutMs: 2000,
    connections: 128,
    balance: 'round_robin',
    healthCheck: null,
    retry: null,
  });
  assert.deepEqual(rules.classes, [{ name: 'order', priority: 0, cluster: 'primary', failover: null, maxShare: 1, split: null }]);
  assert.equal(rules.switch.size, 0);
  assert.deepEqual(rules.callers, {
    auth: 'key', unknown: 'reject', unknownQuota: null, unknownBurst: 0, enforceRoutes: false, accounts: [],
    identity: [{ kind: 'header', name: 'x-client-app' }, { kind: 'ip' }],
  });
  assert.deepEqual(rules.limits, { global: null, hotKeys: [], adaptive: [] });
  assert.deepEqual(rules.degrade, []);
  assert.deepEqual(rules.mirrors, []);
});

test('a split and a mirror get their documented defaults', async () => {
  const result = await loadRules(fixture('migration.yaml'));
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  const { rules } = result;
  assert.deepEqual(rules.classes[0].split, { to: 'mysql-new', percent: 1.5, sticky: 'path:/members/{id}' });
  assert.deepEqual(rules.classes[1].split, { to: 'archive', percent: 20, sticky: null });
  assert.deepEqual(rules.mirrors, [
    { name: 'mysql-check', from: 'primary', to: 'mysql-new', percent: 100, methods: ['GET', 'HEAD'], ignore: [], maxInFlight: 64 },
    { name: 'tuned', from: 'backup', to: 'archive', percent: 5, methods: ['GET'], ignore: ['/took', '/a~1b'], maxInFlight: 8 },
  ]);
});

test('defaults inside accounts, hot keys and degrade rules', async () => {
  const result = await loadRules(fixture('split-valid'));
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  const { rules } = result;
  const [a1, a2] = rules.callers.accounts;
  assert.deepEqual(a1, {
    id: 'a1', owner: 'o', team: 't', scenario: 's', class: 'order', keySha256: null, quota: null, burst: 0, routes: null,
  });
  assert.deepEqual(a2.routes, ['* /**']);
  // The global cap's burst: a tenth of a second of its rate.
  assert.deepEqual(rules.limits.global, { rate: { text: '100/s', perSecond: 100 }, burst: 10, scope: 'fleet', shadow: false });
  const [memberId, callerIp] = rules.limits.hotKeys;
  assert.equal(memberId.burst, 5, 'a tenth of a second of 50/s');
  assert.equal(memberId.track, 100_000);
  assert.equal(memberId.shadow, false);
  assert.equal(memberId.overrides.size, 0);
  assert.equal(callerIp.rate.perSecond, 10 / 60);
  assert.equal(callerIp.burst, 1, 'a slow rate still takes two arrivals at once');
  const [errors, count] = rules.degrade;
  assert.deepEqual(errors, {
    name: 'primary-errors',
    cluster: 'primary',
    kind: 'error_ratio',
    threshold: 0.5,
    windowMs: 1000,
    minRequests: 10,
    openForMs: 10_000,
    probes: 3,
    action: 'failover',
    shadow: false,
  });
  assert.equal(count.shadow, true);
  assert.equal(count.threshold, 5);
});

test('rates and durations in every accepted form', () => {
  assert.deepEqual(parseRate('200/s'), { text: '200/s', perSecond: 200 });
  assert.deepEqual(parseRate('3000/min'), { text: '3000/min', perSecond: 50 });
  assert.deepEqual(parseRate('0.5/s'), { text: '0.5/s', perSecond: 0.5 });
  for (const bad of ['200', '200/sec', '200/m', '/s', '-1/s', '1e3/s', '200 /s', '01/s']) assert.equal(parseRate(bad), null, bad);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1.5s'), 1500);
  for (const bad of ['2', '2 s', '1h', 's', '2sec']) assert.equal(parseDuration(bad), null, bad);
});

test('balance, health_check and retry: what an empty section and a partial one mean', async () => {
  const result = await loadRules(fixture('mesh.yaml'));
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  const primary = result.rules.clusters.get('primary');
  assert.equal(primary?.balance, 'least_request');
  assert.deepEqual(primary?.healthCheck, { path: '/healthz', intervalMs: 5000, timeoutMs: 1000, unhealthy: 3, healthy: 2 });
  assert.deepEqual(primary?.retry, {
    attempts: 2,
    onConnectFailure: true,
    onReset: false,
    onTimeout: false,
    statuses: [503, 502],
    budget: 0.2,
  });
});
