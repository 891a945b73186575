import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { LeastRequestBalancer } from '../../src/upstream/balancer.ts';
import { UpstreamCluster } from '../../src/upstream/cluster.ts';
import { clusterRules } from './harness.ts';

// Pools connect lazily: these clusters never open a socket.
describe('least_request balancing and health', () => {
  const clusters: UpstreamCluster[] = [];
  after(async () => {
    for (const cluster of clusters) await cluster.destroy();
  });
  const A = 'http://127.0.0.1:1001';
  const B = 'http://127.0.0.1:1002';
  const C = 'http://127.0.0.1:1003';
  function cluster(endpoints: string[], balance: 'round_robin' | 'least_request' = 'least_request'): UpstreamCluster {
    const made = new UpstreamCluster(clusterRules(endpoints, { balance }), { clock: new ManualClock(1000) });
    clusters.push(made);
    return made;
  }

  test('of two random endpoints the one with fewer in flight wins', () => {
    const upstream = cluster([A, B]);
    upstream.endpoints[0].inFlight = 10;
    for (let i = 0; i < 50; i++) assert.equal(upstream.pick().url, B);
    upstream.endpoints[1].inFlight = 20;
    for (let i = 0; i < 50; i++) assert.equal(upstream.pick().url, A);
  });

  test('with three endpoints the busiest is never picked, the others share', () => {
    const upstream = cluster([A, B, C]);
    upstream.endpoints[2].inFlight = 5;
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const url = upstream.pick().url;
      counts.set(url, (counts.get(url) ?? 0) + 1);
    }
    assert.equal(counts.get(C) ?? 0, 0);
    assert.ok((counts.get(A) ?? 0) > 1000 && (counts.get(B) ?? 0) > 1000, JSON.stringify([...counts]));
  });

  test('an endpoint out of rotation by health is never picked while another is healthy; all unhealthy → panic over all', () => {
    for (const balance of ['round_robin', 'least_request'] as const) {
      const upstream = cluster([A, B, C], balance);
      upstream.endpoints[0].healthy = false;
      upstream.endpoints[1].healthy = false;
      for (let i = 0; i < 30; i++) assert.equal(upstream.pick().url, C, balance);
      assert.equal(upstream.alternativeTo(upstream.endpoints[2]), null);
    }
  });

  test('the balancer skips an excluded endpoint (retries go elsewhere)', () => {
    const balancer = new LeastRequestBalancer(() => 0);
    const upstream = cluster([A, B]);
    for (let i = 0; i < 10; i++) assert.equal(balancer.pick(upstream.endpoints, 0, false, upstream.endpoints[0])?.url, B);
    assert.equal(balancer.pick(upstream.endpoints, 0, false, upstream.endpoints[1])?.url, A);
  });
});
