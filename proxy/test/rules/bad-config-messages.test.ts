// One bad-config fixture per kind of mistake, each with the exact lines an operator sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRules } from '../../src/rules/load.ts';
import { fixture } from './fixtures.ts';

async function problems(name: string): Promise<readonly string[]> {
  const result = await loadRules(fixture(name));
  assert.equal(result.ok, false, `${name} should be refused`);
  return result.ok ? [] : result.errors;
}

test('a YAML syntax error is reported at its line and column with yaml\'s message', async () => {
  const f = fixture('syntax-error.yaml');
  assert.deepEqual(await problems('syntax-error.yaml'), [
    `${f}:5:1: YAML syntax: flow sequence in block collection must be sufficiently indented and end with a ]`,
  ]);
});

test('an unknown key names its path and suggests the key meant', async () => {
  const f = fixture('unknown-key.yaml');
  assert.deepEqual(await problems('unknown-key.yaml'), [
    `${f}:5:5: clusters.primary.tiemout: unknown key 'tiemout' (did you mean 'timeout'?)`,
  ]);
});

test('a class pointing at a cluster that does not exist names the path and the clusters there are', async () => {
  const f = fixture('dangling-cluster.yaml');
  assert.deepEqual(await problems('dangling-cluster.yaml'), [
    `${f}:6:25: classes.marketing.cluster: unknown cluster 'marketting' (clusters: primary)`,
  ]);
});

test('a key defined in two files names both places', async () => {
  const dir = fixture('duplicate-key');
  assert.deepEqual(await problems('duplicate-key'), [
    `${dir}/b.yaml:4:3: clusters.primary: defined in two files (also at ${dir}/a.yaml:3:3)`,
  ]);
});

test('an account id registered twice across files names both places, with the path as written in its file', async () => {
  const dir = fixture('duplicate-account');
  assert.deepEqual(await problems('duplicate-account'), [
    `${dir}/team-b.yaml:4:13: callers.accounts[1].id: duplicate account id 'order-center' (first at ${dir}/rules.yaml:8:13)`,
  ]);
});

test('several problems are all listed, sorted by line', async () => {
  const f = fixture('several-problems.yaml');
  assert.deepEqual(await problems('several-problems.yaml'), [
    `${f}:3:63: clusters.primary.connections: must be >= 1`,
    `${f}:5:40: classes.order.failover: unknown cluster 'backup': a cluster name or 'none' (clusters: primary)`,
    `${f}:8:12: callers.unknown: must be 'reject' or a class name: unknown class 'guests' (classes: order)`,
    `${f}:10:7: callers.accounts[0]: missing required key 'scenario'`,
    `${f}:14:14: callers.accounts[0].quota: must be a rate like 200/s or 3000/min`,
    `${f}:16:35: limits.global.scope: must be one of fleet, instance (got 'planet')`,
  ]);
});

test('a rate in the wrong unit says what a rate looks like', async () => {
  const f = fixture('bad-rate.yaml');
  assert.deepEqual(await problems('bad-rate.yaml'), [
    `${f}:8:11: limits.global.rate: must be a rate like 200/s or 3000/min`,
  ]);
});

test('durations are checked, including an rt threshold given as a bare number', async () => {
  const f = fixture('bad-duration.yaml');
  assert.deepEqual(await problems('bad-duration.yaml'), [
    `${f}:10:16: degrade[0].threshold: must be a duration like 250ms, 2s or 1m`,
    `${f}:11:13: degrade[0].window: must be a duration like 250ms, 2s or 1m`,
  ]);
});

test('route patterns and hot-key keys are parsed', async () => {
  const f = fixture('bad-route-and-hot-key.yaml');
  assert.deepEqual(await problems('bad-route-and-hot-key.yaml'), [
    `${f}:14:16: callers.accounts[0].routes[0]: route 'GET /members/**/level': '**' may only be the last segment`,
    `${f}:17:31: limits.hot_keys[0].key: hot key 'path:/members/id': path template must name the key segment in braces, e.g. /members/{id}`,
  ]);
});

test('a redis store needs its url', async () => {
  const f = fixture('redis-without-url.yaml');
  assert.deepEqual(await problems('redis-without-url.yaml'), [
    `${f}:2:1: store: kind 'redis' needs url (e.g. redis://127.0.0.1:6379)`,
  ]);
});

test('with auth: key (the default) every account needs key_sha256', async () => {
  const f = fixture('missing-key-hash.yaml');
  assert.deepEqual(await problems('missing-key-hash.yaml'), [
    `${f}:8:7: callers.accounts[0]: missing required key 'key_sha256' (callers.auth is 'key')`,
  ]);
});

test('the whole rules need at least one cluster and one class', async () => {
  const f = fixture('no-clusters.yaml');
  assert.deepEqual(await problems('no-clusters.yaml'), [
    `${f}:2:1: clusters: at least one cluster is required`,
    `${f}:2:1: classes: at least one class is required`,
  ]);
});

test('a missing target is one clear line, not an exception', async () => {
  const result = await loadRules('no/such/rules/');
  assert.deepEqual(result, { ok: false, errors: ['no/such/rules/: no such file or directory'], files: [] });
});

test('a calling identity source that is neither header:NAME nor ip is named with the accepted forms', async () => {
  const f = fixture('bad-identity.yaml');
  assert.deepEqual(await problems('bad-identity.yaml'), [
    `${f}:8:35: callers.identity[1]: must be header:NAME or ip, e.g. header:x-client-app`,
  ]);
});

test('split and mirror mistakes: unknown target, broken isolation, bad sticky key, percent, pointers', async () => {
  const f = fixture('bad-split-and-mirror.yaml');
  assert.deepEqual(await problems('bad-split-and-mirror.yaml'), [
    `${f}:6:61: classes.order.split.to: unknown cluster 'mysqll-new' (clusters: primary, backup, mysql-new)`,
    `${f}:7:49: classes.marketing.split.to: class 'marketing' has failover: none: it may only split to a cluster no other class uses ('backup' serves class 'order')`,
    `${f}:7:77: classes.marketing.split.sticky: sticky key 'path:/members/id': path template must name the key segment in braces, e.g. /members/{id}`,
    `${f}:8:61: classes.batch.split.to: 'mysql-new' serves class 'marketing', which has failover: none: no other class may split onto it`,
    `${f}:8:81: classes.batch.split.percent: must be <= 100`,
    `${f}:10:70: mirrors[0].compare.ignore[0]: must be a JSON Pointer, e.g. /served_at or /items/0/took`,
    `${f}:11:13: mirrors[1].name: duplicate mirror name 'check' (first at ${f}:10:13)`,
    `${f}:11:26: mirrors[1].from: cluster 'primary' is already mirrored by 'check' (one mirror per cluster)`,
    `${f}:11:39: mirrors[1].to: must differ from 'from'`,
    `${f}:11:58: mirrors[1].methods[0]: must be an HTTP method in capitals, e.g. GET`,
  ]);
});

test('balance, health_check and retry settings are checked', async () => {
  const f = fixture('bad-mesh.yaml');
  assert.deepEqual(await problems('bad-mesh.yaml'), [
    `${f}:4:14: clusters.primary.balance: must be one of round_robin, least_request (got 'random')`,
    `${f}:5:44: clusters.primary.health_check.timeout: must be shorter than the interval (1s)`,
    `${f}:6:24: clusters.primary.retry.attempts: must be >= 2`,
    `${f}:6:32: clusters.primary.retry.on[0]: must be connect_failure, reset, timeout or a 4xx/5xx status such as "503"`,
    `${f}:6:41: clusters.primary.retry.on[1]: must be connect_failure, reset, timeout or a 4xx/5xx status such as "503"`,
    `${f}:6:57: clusters.primary.retry.budget: must be <= 1`,
  ]);
});
