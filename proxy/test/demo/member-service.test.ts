// The stand-in member service: member JSON, its cluster's name on every answer, adjustable
// latency and failures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { CLUSTER_HEADER, startMemberService } from '../../src/demo/member-service.ts';

test('each cluster answers member profiles and names itself', async () => {
  const service = await startMemberService();
  try {
    assert.equal(new Set(service.all.map((c) => c.port)).size, 3, 'three distinct ports');
    for (const cluster of service.all) {
      const res = await request(`${cluster.url}/members/123456`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers[CLUSTER_HEADER], cluster.name);
      const body = (await res.body.json()) as { id: string; served_by: string; level: string };
      assert.equal(body.id, '123456');
      assert.equal(body.served_by, cluster.name);
    }
    const level = await request(`${service.primary.url}/members/42/level`);
    assert.equal(level.statusCode, 200);
    assert.deepEqual(Object.keys((await level.body.json()) as object).sort(), ['id', 'level', 'points', 'served_by']);
    const points = await request(`${service.primary.url}/members/42/points`, { method: 'POST', body: '{"points":5}' });
    assert.equal(points.statusCode, 200);
    assert.equal(((await points.body.json()) as { applied: boolean }).applied, true);
    const missing = await request(`${service.primary.url}/orders/1`);
    assert.equal(missing.statusCode, 404);
    await missing.body.dump();
    assert.equal(service.primary.served, 4);
  } finally {
    await service.close();
  }
});

test('latency and failure ratio apply to the cluster they are set on', async () => {
  const service = await startMemberService();
  try {
    service.primary.latencyMs = 150;
    service.backup.failureRatio = 1;
    const started = performance.now();
    const slow = await request(`${service.primary.url}/members/1`);
    await slow.body.dump();
    assert.ok(performance.now() - started >= 140, 'primary answered after its latency');
    const failed = await request(`${service.backup.url}/members/1`);
    assert.equal(failed.statusCode, 500);
    assert.equal(failed.headers[CLUSTER_HEADER], 'backup');
    await failed.body.dump();
    const fine = await request(`${service.marketing.url}/members/1`);
    assert.equal(fine.statusCode, 200);
    await fine.body.dump();
  } finally {
    await service.close();
  }
});
