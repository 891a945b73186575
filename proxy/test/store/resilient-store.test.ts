import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { StoreRules } from '../../src/rules/types.ts';
import { RedisStore } from '../../src/store/redis-store.ts';
import { redisKey } from '../../src/store/redis-keys.ts';
import { ResilientStore, STORE_UNAVAILABLE } from '../../src/store/resilient-store.ts';
import { bucketSpec, type BucketSpec } from '../../src/store/store.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { expectedAdmitted, saturate } from './saturate.ts';
import { spacedTakes } from './spaced.ts';

function resilient(url: string, onFailure: 'local' | 'reject', commandTimeoutMs = 100): ResilientStore {
  const rules: StoreRules = { kind: 'redis', url, nodes: [], onFailure, instances: 2 };
  return new ResilientStore(new RedisStore(rules, { commandTimeoutMs }), { onFailure, instances: 2 });
}

describe('ResilientStore: Redis going away and coming back', () => {
  // Each test kills or pauses its own Redis.
  let redis: RedisServer;
  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await redis.stop();
  });

  it('kill -9 under load: no failed take, local limits, up again within 2 s, shared again', async () => {
    const stores = [resilient(redis.url, 'local'), resilient(redis.url, 'local')];
    const changes: boolean[][] = [[], []];
    stores.forEach((s, i) => s.onUpChange((up) => changes[i].push(up)));
    const quota: BucketSpec[] = [bucketSpec(`acct:kill-${process.pid}`, 300, 150)];
    const raw = new Redis(redis.url);
    raw.on('error', () => {}); // this inspection client sees the outage too
    try {
      await waitFor(() => stores.every((s) => s.up), { message: 'both stores up' });

      const shared = await saturate(stores, quota, 1000, { loops: 1 });
      assert.equal(shared.failures, 0);
      assert.ok(shared.admitted <= expectedAdmitted(300, 150, shared.elapsedMs) * 1.03, `shared ${shared.admitted}`);
      assert.equal(await raw.exists(redisKey(quota[0].key)), 1, 'the quota lives in Redis');

      // Kill Redis in the middle of a saturating run.
      let killed = false;
      const outage = saturate(stores, quota, 1500, {
        loops: 1,
        onTake: () => {
          if (!killed) {
            killed = true;
            void redis.kill();
          }
        },
      });
      const during = await outage;
      assert.equal(during.failures, 0, 'no take failed because of the store');
      await waitFor(() => stores.every((s) => !s.up), { timeoutMs: 2000, message: 'both stores down' });

      // Down: each store enforces 300 / 2 = 150/s with burst 75 by itself. The bursts went in the
      // run above, so this run admits the rate alone (and never more than rate and bursts).
      const local = await saturate(stores, quota, 2000, { loops: 1 });
      const localRate = (2 * 150 * local.elapsedMs) / 1000;
      assert.equal(local.failures, 0);
      assert.ok(local.admitted <= 2 * expectedAdmitted(150, 75, local.elapsedMs) * 1.03, `local ${local.admitted}`);
      assert.ok(local.admitted >= localRate * 0.9, `local ${local.admitted} ≈ ${localRate.toFixed(0)}`);

      await redis.restart();
      const back = performance.now();
      await waitFor(() => stores.every((s) => s.up), { timeoutMs: 2000, message: 'both stores up again' });
      assert.ok(performance.now() - back < 2000);

      const resumed = await saturate(stores, quota, 1000, { loops: 1 });
      assert.equal(resumed.failures, 0);
      // On a loaded machine one command past the bound can mark a store down again for a moment,
      // and its takes go local meanwhile: what must hold is that takes reach Redis again.
      await waitFor(
        async () => {
          if ((await raw.exists(redisKey(quota[0].key))) === 1) return true;
          await saturate(stores, quota, 100, { loops: 1 });
          return (await raw.exists(redisKey(quota[0].key))) === 1;
        },
        { timeoutMs: 5000, message: 'shared enforcement to resume in Redis' },
      );
      assert.ok(resumed.admitted <= expectedAdmitted(300, 150, resumed.elapsedMs) * 1.03, `resumed ${resumed.admitted}`);
      for (const seen of changes) {
        assert.equal(seen[0], true);
        assert.ok(seen.includes(false), 'went down');
        assert.equal(seen.at(-1), true, 'came back');
      }
    } finally {
      raw.disconnect();
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('on_failure reject answers STORE_UNAVAILABLE while down, and admits again after', async () => {
    const store = resilient(redis.url, 'reject');
    const quota: BucketSpec[] = [bucketSpec(`acct:reject-${process.pid}`, 1000, 10)];
    try {
      await waitFor(() => store.up, { message: 'store up' });
      assert.equal(await store.take(quota), 0);
      await redis.kill();
      await waitFor(() => !store.up, { timeoutMs: 2000, message: 'store down' });
      assert.equal(await store.take(quota), STORE_UNAVAILABLE);
      store.give(quota); // a refund while down is dropped, never thrown
      await redis.restart();
      await waitFor(() => store.up, { timeoutMs: 2000, message: 'store up again' });
      assert.equal(await store.take(quota), 0);
    } finally {
      await store.close();
    }
  });

  it('takes that waited on a stalled Redis are decided locally at their own arrival times', async () => {
    const rules: StoreRules = { kind: 'redis', url: redis.url, nodes: [], onFailure: 'local', instances: 1 };
    const store = new ResilientStore(new RedisStore(rules, { commandTimeoutMs: 100 }), { onFailure: 'local', instances: 1 });
    try {
      await waitFor(() => store.up, { message: 'store up' });
      redis.pause();
      try {
        // One batch of ten takes 1.2 ms apart at 1000/s, burst 0: it times out, and each take
        // falls back at its own time, so all ten fit (at the timeout's instant only one would).
        const answers = await spacedTakes(store, [bucketSpec(`acct:stalled-${process.pid}`, 1000, 0)], 10, 1.2);
        assert.equal(store.up, false, 'the stall was seen');
        assert.deepEqual(answers, new Array(10).fill(0));
      } finally {
        redis.resume();
      }
    } finally {
      await store.close();
    }
  });

  it('a paused Redis costs one bounded wait, then takes are answered locally at once', async () => {
    const store = resilient(redis.url, 'local', 50);
    const quota: BucketSpec[] = [bucketSpec(`acct:pause-${process.pid}`, 1000, 100)];
    try {
      await waitFor(() => store.up, { message: 'store up' });
      redis.pause();
      try {
        const started = performance.now();
        assert.equal(await store.take(quota), 0, 'admitted by the local fallback');
        assert.ok(performance.now() - started < 1000, 'within the command timeout bound');
        assert.equal(store.up, false);
        const answer = store.take(quota);
        assert.equal(typeof answer, 'number', 'answered synchronously while down');
      } finally {
        redis.resume();
      }
      await waitFor(() => store.up, { timeoutMs: 2000, message: 'store up after resume' });
    } finally {
      await store.close();
    }
  });
});
