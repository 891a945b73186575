import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StoreRules } from '../../src/rules/types.ts';
import { SwitchBus, type SwitchMap } from '../../src/store/switch-bus.ts';
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface Received {
  readonly switchMap: SwitchMap;
  readonly origin: string;
}

function listen(bus: SwitchBus): Received[] {
  const received: Received[] = [];
  bus.subscribe((switchMap, origin) => received.push({ switchMap, origin }));
  return received;
}

/** Publishes until the first delivery: a subscriber may still be connecting. */
async function publishUntilSeen(bus: SwitchBus, map: SwitchMap, received: Received[]): Promise<number> {
  const started = performance.now();
  await waitFor(async () => {
    if (received.length > 0) return true;
    await bus.publish(map).catch(() => undefined);
    return false;
  }, { timeoutMs: 5000, intervalMs: 100, message: 'a switch delivered' });
  return performance.now() - started;
}

describe('SwitchBus on one Redis', () => {
  let redis: RedisServer;
  let rules: StoreRules;
  before(async () => {
    redis = await startRedis();
    rules = { kind: 'redis', url: redis.url, nodes: [], onFailure: 'local', instances: 2 };
  });
  after(async () => {
    await redis.stop();
  });

  it('delivers a switch to the other sidecar within 1 s, not back to its sender', async () => {
    const one = new SwitchBus(rules, { instanceId: 'one' });
    const two = new SwitchBus(rules, { instanceId: 'two' });
    const toOne = listen(one);
    const toTwo = listen(two);
    try {
      await publishUntilSeen(one, { primary: 'backup' }, toTwo); // both connected now
      toTwo.length = 0;
      const started = performance.now();
      await one.publish({ primary: 'backup', marketing: 'backup' });
      await waitFor(() => toTwo.length === 1, { timeoutMs: 1000, message: 'delivery within 1 s' });
      assert.ok(performance.now() - started < 1000);
      assert.deepEqual(toTwo[0], { switchMap: { primary: 'backup', marketing: 'backup' }, origin: 'one' });
      await two.publish({});
      await waitFor(() => toOne.length === 1, { timeoutMs: 1000, message: 'reverse delivery' });
      assert.deepEqual(toOne[0], { switchMap: {}, origin: 'two' });
      assert.equal(toTwo.length, 1, 'a sidecar does not receive its own switch');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('survives a Redis restart, and catches up on a switch published while it was away', async () => {
    const one = new SwitchBus(rules, { instanceId: 'one' });
    const two = new SwitchBus(rules, { instanceId: 'two' });
    const toTwo = listen(two);
    try {
      await publishUntilSeen(one, { primary: 'backup' }, toTwo);
      await redis.restart();
      toTwo.length = 0;
      // After the restart: live delivery works again.
      await publishUntilSeen(one, { primary: 'primary' }, toTwo);
      assert.deepEqual(toTwo[0].switchMap, { primary: 'primary' });

      // A switch published while `two`'s subscriber is disconnected reaches it on reconnect.
      const three = new SwitchBus(rules, { instanceId: 'three' });
      try {
        const toThree = listen(three);
        await publishUntilSeen(one, { primary: 'backup' }, toThree);
        toTwo.length = 0;
        const subscriber = (two as unknown as { bus: { subscriber: { status: string; disconnect(reconnect: boolean): void } } })
          .bus.subscriber;
        subscriber.disconnect(true);
        await one.publish({ marketing: 'backup' });
        assert.notEqual(subscriber.status, 'ready', 'published while the subscriber was away');
        await waitFor(() => toTwo.some((r) => r.switchMap.marketing === 'backup'), {
          timeoutMs: 3000,
          message: 'missed switch caught up',
        });
      } finally {
        await three.close();
      }
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('does not replay an old switch onto a sidecar that starts later', async () => {
    const one = new SwitchBus(rules, { instanceId: 'one' });
    const two = new SwitchBus(rules, { instanceId: 'two' });
    const toTwo = listen(two);
    try {
      await publishUntilSeen(one, { primary: 'backup' }, toTwo);
      const late = new SwitchBus(rules, { instanceId: 'late' });
      const toLate = listen(late);
      try {
        // Once `late` is connected it gets new switches, but never the one before it started.
        await publishUntilSeen(one, { primary: 'primary' }, toLate);
        assert.ok(toLate.every((r) => r.switchMap.primary === 'primary'), JSON.stringify(toLate));
      } finally {
        await late.close();
      }
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('SwitchBus on a Redis Cluster', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('delivers a switch between sidecars within 1 s', async () => {
    const rules: StoreRules = { kind: 'redis-cluster', url: null, nodes: cluster.nodes, onFailure: 'local', instances: 2 };
    const one = new SwitchBus(rules, { instanceId: 'one' });
    const two = new SwitchBus(rules, { instanceId: 'two' });
    const toTwo = listen(two);
    try {
      await publishUntilSeen(one, { primary: 'backup' }, toTwo);
      toTwo.length = 0;
      const started = performance.now();
      await one.publish({ primary: 'primary' });
      await waitFor(() => toTwo.length === 1, { timeoutMs: 1000, message: 'delivery within 1 s' });
      assert.ok(performance.now() - started < 1000);
      assert.deepEqual(toTwo[0], { switchMap: { primary: 'primary' }, origin: 'one' });
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
