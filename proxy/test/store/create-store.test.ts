import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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

  it('memory: a sidecar on the memory store never loads ioredis', async () => {
    // The sidecar's whole module graph, then a memory store made and used: no ioredis module.
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(new URL('../../src/sidecar.ts', import.meta.url).href)});
      const { createStore } = await import(${JSON.stringify(new URL('../../src/store/create-store.ts', import.meta.url).href)});
      const store = createStore({ kind: 'memory', url: null, nodes: [], onFailure: 'local', instances: 1 });
      await store.close();
      const cache = createRequire(import.meta.url).cache;
      console.log(JSON.stringify({ ioredis: Object.keys(cache).filter((k) => k.includes('/ioredis/')).length, modules: Object.keys(cache).length }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const loaded = JSON.parse(stdout) as { ioredis: number; modules: number };
    assert.ok(loaded.modules > 50, `the probe sees the sidecar's packages (${loaded.modules} modules)`);
    assert.equal(loaded.ioredis, 0);
  });

  it('redis: closed before its module finished loading, it opens no connection', async () => {
    const rules: StoreRules = { kind: 'redis', url: redis.url, nodes: [], onFailure: 'local', instances: 1 };
    const counterClients = async () => {
      const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(redis.port), 'client', 'list']);
      return stdout.split('\n').filter((line) => line.includes('name=sluice-counters')).length;
    };
    const store = createStore(rules);
    await store.close();
    assert.equal(store.up, false);
    assert.equal(store.take([bucketSpec('acct:closed', 1, 0)]), 0, 'decided locally');
    assert.equal(await counterClients(), 0);
    // The same store left open connects: the count above could have seen one.
    const open = createStore(rules);
    try {
      await waitFor(async () => (await counterClients()) === 1, { message: 'a counters connection' });
    } finally {
      await open.close();
    }
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
