import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import type { StoreRules } from '../../src/rules/types.ts';
import { createStore } from '../../src/store/create-store.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { bucketSpec } from '../../src/store/store.ts';

describe('createStore', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  it('memory: a synchronous per-instance store on the given clock', async () => {
    const clock = new ManualClock(0);
    const rules: StoreRules = { kind: 'memory', url: null, nodes: [], onFailure: 'local', instances: 1 };
    const store = createStore(rules, { clock });
    const spec = [bucketSpec('acct:m', 1, 0)];
    assert.equal(store.kind, 'memory');
    assert.equal(store.up, true);
    assert.equal(store.take(spec), 0);
    assert.ok((store.take(spec) as number) > 0);
    clock.advance(1000);
    assert.equal(store.take(spec), 0);
    await store.close();
  });

  it('redis: shared, reporting up changes', async () => {
    const rules: StoreRules = { kind: 'redis', url: redis.url, nodes: [], onFailure: 'local', instances: 3 };
    const changes: boolean[] = [];
    const store = createStore(rules, { onUpChange: (up) => changes.push(up) });
    try {
      assert.equal(store.kind, 'redis');
      await waitFor(() => store.up, { message: 'store up' });
      assert.deepEqual(changes, [true]);
      const spec = [bucketSpec(`acct:create-${process.pid}`, 1, 0)];
      assert.equal(await store.take(spec), 0);
      assert.ok((await store.take(spec)) > 0);
    } finally {
      await store.close();
    }
  });
});
