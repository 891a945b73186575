// The Lua GCRA (store/gcra-lua.ts) against the shared vectors, on a real redis-server. Each
// vector goes out as one batch, as the Redis store sends them: every take carries its age (the
// vector's last arrival minus its own), so Redis judges it at its own arrival time on Redis's
// clock, and the verdicts must be exactly the TypeScript GCRA's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { TAKE_BATCH_LUA } from '../../src/store/gcra-lua.ts';
import { bucketSpec } from '../../src/store/store.ts';
import { GCRA_VECTORS, matches, type GcraVector } from '../limits/gcra-vectors.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';

let run = 0;

/**
 * One script call for the whole vector, in the batch format the Redis store sends (each distinct
 * bucket list once, then per take its list and age); answers per take in ms (the script answers µs).
 */
async function runLua(redis: Redis, vector: GcraVector): Promise<number[]> {
  const keys = vector.buckets.map((_, i) => `sluice:{vector-${process.pid}-${++run}}:${i}`);
  const specs = vector.buckets.map((b, i) => bucketSpec(keys[i], b.rate, b.burst));
  const last = vector.takes[vector.takes.length - 1].at;
  const all = vector.buckets.map((_, i) => i);
  const lists = new Map<string, number>();
  const listArgs: (string | number)[] = [];
  const takeArgs: (string | number)[] = [vector.takes.length];
  for (const take of vector.takes) {
    const indexes = take.buckets ?? all;
    const name = indexes.join(',');
    let list = lists.get(name);
    if (list === undefined) {
      list = lists.size + 1;
      lists.set(name, list);
      listArgs.push(indexes.length);
      for (const i of indexes) listArgs.push(i + 1, String(specs[i].interval), String(specs[i].tolerance));
    }
    takeArgs.push(list, String(last - take.at));
  }
  const answers = (await redis.eval(TAKE_BATCH_LUA, keys.length, ...keys, lists.size, ...listArgs, ...takeArgs)) as number[];
  return answers.map((micros) => micros / 1000);
}

describe('GCRA vectors, Lua on a real redis-server', () => {
  let server: RedisServer;
  let redis: Redis;

  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  after(async () => {
    await redis?.quit();
    await server?.stop();
  });

  for (const vector of GCRA_VECTORS) {
    it(vector.name, async () => {
      const answers = await runLua(redis, vector);
      vector.takes.forEach((t, i) => {
        // Waits come back in whole microseconds, rounded up.
        assert.ok(matches(answers[i], t.expect, 0.001), `take ${i} at ${t.at} answered ${answers[i]}, expected ${t.expect}`);
      });
    });
  }

  // Leases ride after the takes: per lease key index, interval, tolerance, units wanted, lifetime.
  // 1000/s with burst 10: interval 1 ms, tolerance 10 ms.
  const leaseArgs = (key: number, want: number, lifetimeMs: number) => [key, '1', '10', want, String(lifetimeMs)];

  it('leases an idle bucket: the units asked for, the first placed a lifetime ahead', async () => {
    const key = `sluice:{lease-idle-${process.pid}}`;
    const answers = await redis.eval(TAKE_BATCH_LUA, 1, key, 0, 0, 1, ...leaseArgs(1, 5, 3));
    assert.deepEqual(answers, [5, 3000]);
    // TAT = now + 3 + 5 × 1 ms: the key lives until then.
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 0 && ttl <= 8, `pttl ${ttl}`);
  });

  it('grants only the units that all conform now, after the takes of the same batch', async () => {
    const key = `sluice:{lease-busy-${process.pid}}`;
    // Four takes first (TAT now + 4), then a lease of 10: its first slot at now + 4 (past the
    // 3 ms lifetime already), and only 7 more fit the 10 ms tolerance.
    const answers = await redis.eval(TAKE_BATCH_LUA, 1, key, 1, 1, 1, '1', '10', 4, 1, '0', 1, '0', 1, '0', 1, '0', 1, ...leaseArgs(1, 10, 3));
    assert.deepEqual(answers, [0, 0, 0, 0, 7, 4000]);
  });

  it('grants nothing from a full bucket, and leaves it as it was', async () => {
    const key = `sluice:{lease-full-${process.pid}}`;
    const takes = Array.from({ length: 12 }, () => [1, '0']).flat();
    const answers = (await redis.eval(TAKE_BATCH_LUA, 1, key, 1, 1, 1, '1', '10', 12, ...takes, 1, ...leaseArgs(1, 5, 3))) as number[];
    // Burst 10: eleven at once, the twelfth waits a ms; the lease gets nothing.
    assert.deepEqual(answers.slice(0, 11), new Array(11).fill(0));
    assert.ok(answers[11] > 0);
    assert.deepEqual(answers.slice(12), [0, 0]);
  });

  it('leaves no key behind once every TAT has passed', async () => {
    const key = `sluice:{vector-expiry-${process.pid}}`;
    const spec = bucketSpec(key, 1000, 0);
    // One take aged 50 ms: its TAT (arrival + 1 ms) is already past when Redis runs it.
    await redis.eval(TAKE_BATCH_LUA, 1, key, 1, 1, 1, String(spec.interval), String(spec.tolerance), 1, 1, '50');
    const deadline = performance.now() + 2000;
    while ((await redis.exists(key)) === 1) {
      assert.ok(performance.now() < deadline, 'the key expired');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
});
