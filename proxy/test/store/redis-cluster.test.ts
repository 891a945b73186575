import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StoreRules } from '../../src/rules/types.ts';
import { RedisStore } from '../../src/store/redis-store.ts';
import { taggedKey } from '../../src/store/redis-keys.ts';
import { ResilientStore } from '../../src/store/resilient-store.ts';
import { bucketSpec, type BucketSpec } from '../../src/store/store.ts';
import { startRedisCluster, type RedisCluster } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { expectedAdmitted, saturate } from './saturate.ts';
import { spacedTakes } from './spaced.ts';

describe('RedisStore on a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  let rules: StoreRules;
  let a: RedisStore;
  let b: RedisStore;

  before(async () => {
    cluster = await startRedisCluster();
    rules = { kind: 'redis-cluster', url: null, nodes: cluster.nodes, onFailure: 'local', instances: 2 };
    a = new RedisStore(rules, { commandTimeoutMs: 2000 });
    b = new RedisStore(rules, { commandTimeoutMs: 2000 });
    await waitFor(async () => (await a.probe()) && (await b.probe()), { timeoutMs: 10_000, message: 'cluster clients ready' });
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await cluster?.stop();
  });

  it('two stores sharing a 300/s quota admit 300/s in total, within 3%', async () => {
    const key = `acct:cluster-${process.pid}`;
    const specA: BucketSpec[] = [bucketSpec(key, 300, 300)];
    const specB: BucketSpec[] = [bucketSpec(key, 300, 300)];
    const run = await saturate([a, b], (s) => (s === a ? specA : specB), 3000, { loops: 1 });
    const expected = expectedAdmitted(300, 300, run.elapsedMs);
    assert.equal(run.failures, 0);
    assert.ok(Math.abs(run.admitted - expected) <= expected * 0.03, `admitted ${run.admitted}, expected ≈ ${expected.toFixed(0)}`);
  });

  it('counts each take of a batch at its own arrival time, on every master', async () => {
    // Ten accounts (spread over the masters), 1000/s with burst 0: ten takes each, 1.2 ms apart.
    const specs = Array.from({ length: 10 }, (_, i) => [bucketSpec(`acct:spaced-${process.pid}-${i}`, 1000, 0)]);
    const answers = await Promise.all(specs.map((spec) => spacedTakes(a, spec, 10, 1.2)));
    for (const each of answers) assert.deepEqual(each, new Array(10).fill(0));
  });

  it('spreads account buckets over the masters', async () => {
    // At 0.1/s each key lives 10 s: long enough to be counted below.
    for (let i = 0; i < 30; i++) assert.equal(await a.take([bucketSpec(`acct:spread-${i}`, 0.1, 0)]), 0);
    const sizes = await Promise.all(cluster.servers.map(async (server) => {
      const probe = new RedisStore({ kind: 'redis', url: server.url, nodes: [], onFailure: 'local', instances: 1 });
      try {
        await waitFor(() => probe.up, { message: 'node connection' });
        return Number(await probe.client.dbsize());
      } finally {
        await probe.close();
      }
    }));
    assert.ok(sizes.every((n) => n > 0), `keys per master: ${sizes.join(', ')}`);
  });

  it('batches takes made together by hash tag, whichever master holds them', async () => {
    const specs: BucketSpec[][] = [];
    for (let i = 0; i < 20; i++) specs.push([bucketSpec(`acct:batch-${process.pid}-${i}`, 1, 2)]);
    // Five takes per account in one turn: three admitted (burst 2), two refused.
    const answers = await Promise.all(specs.flatMap((spec) => [1, 2, 3, 4, 5].map(() => a.take(spec))));
    for (let i = 0; i < 20; i++) {
      const mine = answers.slice(i * 5, i * 5 + 5);
      assert.equal(mine.filter((x) => x === 0).length, 3, `account ${i}: ${mine.join(', ')}`);
    }
  });

  it('takes the global total and a class bucket together, all or none (one hash tag)', async () => {
    const tag = `global-${process.pid}`;
    const total = bucketSpec(taggedKey(tag, 'total'), 1, 1);
    const marketing = bucketSpec(taggedKey(tag, 'class:marketing'), 1, 0);
    const order = bucketSpec(taggedKey(tag, 'class:order'), 1, 1);
    assert.equal(await a.take([total, marketing]), 0);
    assert.ok((await b.take([total, marketing])) > 0, 'marketing ceiling reached');
    // The rejected take left the total untouched: order still gets the second unit of the total.
    assert.equal(await b.take([total, order]), 0);
    assert.ok((await a.take([total, order])) > 0, 'total reached');
    a.give([total, order]);
    await waitFor(async () => (await b.take([total, order])) === 0, { timeoutMs: 2000, message: 'refund applied' });
  });

  it('a resilient store on the cluster comes up and enforces through it', async () => {
    const store = new ResilientStore(new RedisStore(rules), { onFailure: 'local', instances: 2 });
    try {
      await waitFor(() => store.up, { timeoutMs: 5000, message: 'resilient cluster store up' });
      const spec: BucketSpec[] = [bucketSpec(`acct:resilient-${process.pid}`, 5, 0)];
      assert.equal(await store.take(spec), 0);
      assert.ok((await a.take(spec)) > 0, 'the take landed in the shared bucket');
    } finally {
      await store.close();
    }
  });
});

describe('ResilientStore on a Redis Cluster losing a master', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('keeps answering locally while a master is gone, and goes back to shared when it returns', async () => {
    const rules: StoreRules = { kind: 'redis-cluster', url: null, nodes: cluster.nodes, onFailure: 'local', instances: 2 };
    const store = new ResilientStore(new RedisStore(rules), { onFailure: 'local', instances: 2 });
    const changes: boolean[] = [];
    store.onUpChange((up) => changes.push(up));
    // Accounts on every master.
    const specs: BucketSpec[][] = [];
    for (let i = 0; i < 12; i++) specs.push([bucketSpec(`acct:fail-${i}`, 1000, 100)]);
    let failures = 0;
    const takeAll = async () => {
      for (const spec of specs) {
        try {
          const answer = await store.take(spec);
          if (!(answer >= 0)) failures++;
        } catch {
          failures++;
        }
      }
    };
    try {
      await waitFor(() => store.up, { timeoutMs: 5000, message: 'store up' });
      await takeAll();
      await cluster.servers[1].kill();
      await waitFor(async () => {
        await takeAll();
        return !store.up;
      }, { timeoutMs: 5000, message: 'store down after a master died' });
      await takeAll();
      await cluster.servers[1].restart();
      await waitFor(async () => {
        await takeAll();
        return store.up;
      }, { timeoutMs: 10_000, message: 'store up after the master returned' });
      await takeAll();
      assert.equal(failures, 0, 'no take failed');
      assert.equal(changes[0], true);
      assert.ok(changes.includes(false));
      assert.equal(changes.at(-1), true);
    } finally {
      await store.close();
    }
  });
});
