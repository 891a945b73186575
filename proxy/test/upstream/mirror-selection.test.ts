// Which requests a mirror copies: listed methods, no body, `percent` of them, and never more
// than max_in_flight at once (the rest dropped and counted, never queued).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../../src/metrics.ts';
import type { MirrorRules } from '../../src/rules/types.ts';
import { StateRegistry } from '../../src/state-registry.ts';
import { UpstreamCluster } from '../../src/upstream/cluster.ts';
import { compileMirrors, MIRROR_HEADER } from '../../src/upstream/mirror.ts';
import { fakeContext } from '../helpers/fake-context.ts';

const RULES: MirrorRules = { name: 'check', from: 'old', to: 'new', percent: 100, methods: ['GET', 'HEAD'], ignore: [], maxInFlight: 2 };

function setup(rules: MirrorRules) {
  const target = new UpstreamCluster({ name: 'new', endpoints: ['http://127.0.0.1:9'], timeoutMs: 750, connections: 1, balance: 'round_robin', healthCheck: null, retry: null });
  const metrics = new Metrics({ defaultMetrics: false });
  const registry = new StateRegistry();
  const compile = (next: MirrorRules) => {
    registry.begin();
    const table = compileMirrors([next], { counter: metrics.mirrorRequests, registry, clusters: new Map([['new', target]]), log: null });
    registry.commit();
    const mirror = table?.byCluster.get('old');
    assert.ok(mirror !== undefined);
    return mirror;
  };
  return { target, metrics, compile, mirror: compile(rules) };
}

test('only listed methods without a body are copied; the copy names the mirror and carries the timeout of its cluster', async () => {
  const { mirror, target } = setup(RULES);
  try {
    assert.equal(mirror.prepare(fakeContext({ method: 'POST', url: '/members/1' })), null);
    assert.equal(mirror.prepare(fakeContext({ url: '/members/1', headers: { 'content-length': '12' } })), null);
    assert.equal(mirror.prepare(fakeContext({ url: '/members/1', headers: { 'transfer-encoding': 'chunked' } })), null);
    const copy = mirror.prepare(fakeContext({ url: '/members/1?x=2', headers: { 'content-length': '0' } }));
    assert.ok(copy !== null);
    assert.equal(copy.path, '/members/1?x=2');
    assert.equal(copy.headersTimeout, 750);
    assert.equal(copy.headers[copy.headers.indexOf(MIRROR_HEADER) + 1], 'check');
  } finally {
    await target.destroy();
  }
});

test('beyond max_in_flight copies are dropped and counted; a finished copy frees its slot, across a reload of the unchanged mirror', async () => {
  const { mirror, target, metrics, compile } = setup(RULES);
  try {
    assert.ok(mirror.prepare(fakeContext()) !== null);
    assert.ok(mirror.prepare(fakeContext()) !== null);
    assert.equal(mirror.prepare(fakeContext()), null);
    assert.equal(metrics.mirrorRequests.labels('check', 'dropped').value, 1);
    const reloaded = compile({ ...RULES, percent: 100 });
    assert.equal(reloaded.state, mirror.state, 'the same state after a reload');
    assert.equal(reloaded.prepare(fakeContext()), null, 'still two in flight after the reload');
    mirror.copyFinished();
    assert.ok(reloaded.prepare(fakeContext()) !== null);
  } finally {
    await target.destroy();
  }
});

test('percent copies exactly that share of eligible requests', async () => {
  const { mirror, target } = setup({ ...RULES, percent: 20, maxInFlight: 1000 });
  try {
    let copied = 0;
    for (let i = 0; i < 500; i++) if (mirror.prepare(fakeContext()) !== null) copied++;
    assert.equal(copied, 100);
  } finally {
    await target.destroy();
  }
});
