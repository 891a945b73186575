import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { UpstreamCluster } from '../../src/upstream/cluster.ts';
import { clusterRules } from './harness.ts';

// Pools connect lazily: these clusters never open a socket.
describe('balancing and passive ejection', () => {
  const clusters: UpstreamCluster[] = [];
  after(async () => {
    for (const cluster of clusters) await cluster.destroy();
  });
  function cluster(endpoints: string[], clock: ManualClock): UpstreamCluster {
    const made = new UpstreamCluster(clusterRules(endpoints), { clock, ejection: { baseMs: 2000, maxMs: 30_000 } });
    clusters.push(made);
    return made;
  }
  const A = 'http://127.0.0.1:1001';
  const B = 'http://127.0.0.1:1002';
  const C = 'http://127.0.0.1:1003';

  test('round-robin over the endpoints in rotation', () => {
    const upstream = cluster([A, B, C], new ManualClock(1000));
    assert.deepEqual(Array.from({ length: 6 }, () => upstream.pick().url), [A, B, C, A, B, C]);
    upstream.endpoints[1].recordConnectFailure();
    assert.deepEqual(Array.from({ length: 4 }, () => upstream.pick().url), [A, C, A, C]);
  });

  test('ejection lasts 2 s, doubles on each repeat up to 30 s, and resets on success', () => {
    const clock = new ManualClock(1000);
    const upstream = cluster([A, B], clock);
    const endpoint = upstream.endpoints[0];
    const spans: number[] = [];
    for (let i = 0; i < 6; i++) {
      endpoint.recordConnectFailure();
      spans.push(endpoint.ejectedUntil - clock.now());
      // A failure reported while already ejected does not lengthen the ejection.
      endpoint.recordConnectFailure();
      assert.equal(endpoint.ejectedUntil - clock.now(), spans[i]);
      clock.set(endpoint.ejectedUntil);
      assert.equal(endpoint.isEjected(clock.now()), false, 'back in rotation when the span ends');
    }
    assert.deepEqual(spans, [2000, 4000, 8000, 16_000, 30_000, 30_000]);
    endpoint.recordSuccess();
    endpoint.recordConnectFailure();
    assert.equal(endpoint.ejectedUntil - clock.now(), 2000);
  });

  test('with every endpoint ejected, the one returning soonest is still tried', () => {
    const clock = new ManualClock(1000);
    const upstream = cluster([A, B, C], clock);
    upstream.endpoints[0].recordConnectFailure(); // until 3000
    clock.advance(500);
    upstream.endpoints[1].recordConnectFailure(); // until 3500
    upstream.endpoints[2].recordConnectFailure(); // until 3500
    assert.equal(upstream.pick().url, A);
    assert.equal(upstream.alternativeTo(upstream.endpoints[0]), null);
    const described = upstream.describe().endpoints;
    assert.deepEqual(described.map((e) => e.ejected), [true, true, true]);
    assert.ok(described.every((e) => typeof e.ejectedUntil === 'string' && e.ejections === 1));
  });

  test('an alternative is an endpoint in rotation other than the one that failed', () => {
    const upstream = cluster([A, B], new ManualClock(0));
    upstream.endpoints[0].recordConnectFailure();
    assert.equal(upstream.alternativeTo(upstream.endpoints[0])?.url, B);
    const single = cluster([A], new ManualClock(0));
    assert.equal(single.alternativeTo(single.endpoints[0]), null);
  });

  test('matches() tells a reload whether the cluster can be kept', () => {
    const upstream = cluster([A, B], new ManualClock(0));
    assert.equal(upstream.matches(clusterRules([A, B])), true);
    assert.equal(upstream.matches(clusterRules([B, A])), false);
    assert.equal(upstream.matches(clusterRules([A, B], { timeoutMs: 1 })), false);
  });
});
