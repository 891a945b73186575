import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.ts';
import { HotKeyGuard } from '../../src/guards/hot-key.ts';
import { runGuards } from '../../src/guards/pipeline.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import type { BucketSpec, CounterStore } from '../../src/store/store.ts';
import { fakeContext } from '../helpers/fake-context.ts';
import { account, globalLimit, hotKey, makeRules, rate } from '../helpers/rules-fixture.ts';
import { Harness } from './harness.ts';

let h: Harness;
afterEach(() => h.close());
const as = { 'x-caller-account': 'order-center' };

/** A store answering with promises, as the shared stores do. */
class PromiseStore implements CounterStore {
  readonly kind = 'redis' as const;
  readonly up = true;
  readonly inner: MemoryStore;
  failing = false;
  constructor(inner: MemoryStore) {
    this.inner = inner;
  }
  take(buckets: readonly BucketSpec[]): Promise<number> {
    if (this.failing) return Promise.reject(new Error('store down'));
    return Promise.resolve(this.inner.take(buckets));
  }
  give(buckets: readonly BucketSpec[]): void {
    this.inner.give(buckets);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('limit pipeline', () => {
  it('holds exactly the configured guards, in SPEC order', () => {
    h = new Harness(makeRules());
    assert.deepEqual(
      h.guards.map((g) => g.name),
      ['caller'],
    );
    h = new Harness(
      makeRules({
        accounts: [account({ id: 'order-center', quota: rate('10/s'), routes: ['GET /members/*'] })],
        hotKeys: [hotKey()],
        global: globalLimit('100/s'),
      }),
    );
    assert.deepEqual(
      h.guards.map((g) => g.name),
      ['caller', 'routes', 'account_quota', 'hot_key', 'global_cap'],
    );
  });

  it('continues on promises from a shared store, with the same decisions and refunds', async () => {
    const h0 = new Harness(makeRules());
    h0.close();
    const store = new PromiseStore(new MemoryStore(h0.clock));
    h = new Harness(
      makeRules({
        accounts: [account({ id: 'order-center', quota: rate('5/s'), burst: 4 })],
        hotKeys: [hotKey({ rate: rate('1/s'), burst: 0 })],
        global: globalLimit('1000/s', { scope: 'fleet' }),
      }),
      store,
    );
    const call = async (url: string) => {
      const pending = runGuards(h.guards, fakeContext({ url, headers: as }));
      assert.ok(pending instanceof Promise);
      return pending;
    };
    assert.equal(await call('/members/1'), null);
    for (let i = 0; i < 4; i++) assert.equal((await call('/members/1'))?.reason, 'hot_key');
    let admitted = 0;
    for (let i = 0; i < 10; i++) if ((await call(`/members/${100 + i}`)) === null) admitted++;
    assert.equal(admitted, 4, 'hot-key refusals gave their quota back');
    // A store failure propagates, after giving back what the guards before took.
    h.clock.advance(60_000);
    store.failing = true;
    await assert.rejects(call('/members/5'), /store down/);
  });

  it('one limit waiting while the others answer at once (a leased bucket): the same decisions and refunds', async () => {
    const clock = new ManualClock();
    const memory = new MemoryStore(clock);
    const given: string[] = [];
    // The account quota waits on the store; the global cap answers synchronously, as a leased
    // bucket of the Redis store does.
    const mixed: CounterStore = {
      kind: 'redis',
      up: true,
      take: (buckets) => (buckets[0].key.startsWith('quota:') ? Promise.resolve(memory.take(buckets)) : memory.take(buckets)),
      give: (buckets) => {
        given.push(buckets[0].key.split(':')[0]);
        memory.give(buckets);
      },
      close: () => Promise.resolve(),
    };
    h = new Harness(
      makeRules({
        accounts: [account({ id: 'order-center', quota: rate('5/s'), burst: 4 })],
        hotKeys: [hotKey({ rate: rate('1/s'), burst: 0 })],
        global: globalLimit('2/s', { scope: 'fleet', burst: 1 }),
      }),
      mixed,
    );
    const call = async (url: string): Promise<string | null> => {
      const pending = runGuards(h.guards, fakeContext({ url, headers: as }, clock.now()));
      assert.ok(pending instanceof Promise, 'the quota waits on the store');
      return ((await pending) as { reason: string } | null)?.reason ?? null;
    };
    assert.equal(await call('/members/1'), null);
    // The hot key refuses while the quota's answer is pending: the quota unit is given back once
    // it has come, and the hot-key guard took nothing.
    assert.equal(await call('/members/1'), 'hot_key');
    assert.deepEqual(given, ['quota']);
    // The global cap (2/s, burst 1) refuses the third request of the instant, after the quota
    // admitted it: the quota unit comes back, the hot key's too.
    assert.equal(await call('/members/2'), null);
    assert.equal(await call('/members/3'), 'global_cap');
    assert.deepEqual(given, ['quota', 'quota']);
    // The quota kept exactly what was admitted (2 of its 5): 3 more pass it, each then refused by
    // the global cap, which gives each unit back; a second later the cap admits again.
    for (let i = 0; i < 3; i++) assert.equal(await call(`/members/${10 + i}`), 'global_cap');
    assert.deepEqual(given, ['quota', 'quota', 'quota', 'quota', 'quota']);
    clock.advance(1000);
    assert.equal(await call('/members/20'), null);
  });

  it('asks the shared store for every fleet-wide limit at once, and still answers the first refusal in order', async () => {
    const clock = new ManualClock();
    const memory = new MemoryStore(clock);
    const asked: string[] = [];
    const waiting: (() => void)[] = [];
    const deferred: CounterStore = {
      kind: 'redis',
      up: true,
      // Answers only when the test says so: both takes must be asked before either answers.
      take: (buckets) => {
        asked.push(buckets[0].key);
        return new Promise((resolve) => waiting.push(() => resolve(memory.take(buckets))));
      },
      give: (buckets) => memory.give(buckets),
      close: () => Promise.resolve(),
    };
    h = new Harness(
      makeRules({
        // Zero tolerance: one request spends each limit.
        accounts: [account({ id: 'order-center', quota: rate('1/s'), burst: 0 })],
        global: globalLimit('1/s', { scope: 'fleet', burst: 0 }),
      }),
      deferred,
    );
    const decide = async (): Promise<string | null> => {
      const pending = runGuards(h.guards, fakeContext({ headers: as }));
      assert.equal(waiting.length, 2, 'account quota and global cap asked in the same turn');
      for (const answer of waiting.splice(0)) answer();
      return ((await pending) as { reason: string } | null)?.reason ?? null;
    };
    assert.equal(await decide(), null);
    assert.equal(asked.length, 2);
    // Both limits are spent now; the account quota comes first in SPEC order.
    assert.equal(await decide(), 'account_quota');
    // Nothing the refused request took stays taken: a second later both have room again.
    clock.advance(1000);
    assert.equal(await decide(), null);
  });

  it('a failed store call gives back what earlier guards took', async () => {
    const memory = new MemoryStore();
    let calls = 0;
    const flaky: CounterStore = {
      kind: 'redis',
      up: true,
      take: (buckets) => (++calls === 2 ? Promise.reject(new Error('lost')) : memory.take(buckets)),
      give: (buckets) => memory.give(buckets),
      close: () => Promise.resolve(),
    };
    h = new Harness(
      makeRules({ accounts: [account({ id: 'order-center', quota: rate('1/s') })], global: globalLimit('1000/s', { scope: 'fleet' }) }),
      flaky,
    );
    // First take (quota) succeeds synchronously, the second (global) fails: quota refunded.
    await assert.rejects(Promise.resolve(runGuards(h.guards, fakeContext({ headers: as }))), /lost/);
    assert.equal(runGuards(h.guards, fakeContext({ headers: as })), null, 'the quota unit came back');
  });

  it('reload: an unchanged rule keeps its state, a changed rate starts fresh', () => {
    const rules = (quota: string, hotRate: string) =>
      // Zero tolerance, so one request shows whether a bucket kept its state.
      makeRules({ accounts: [account({ id: 'order-center', quota: rate(quota), burst: 0 })], hotKeys: [hotKey({ rate: rate(hotRate), burst: 0 })] });
    h = new Harness(rules('1/s', '1/s'));
    const table = () => (h.guards.find((g) => g instanceof HotKeyGuard) as HotKeyGuard).rules[0].table;
    const first = table();
    assert.equal(h.call({ url: '/members/1', headers: as }).verdict, null);
    assert.equal(h.call({ url: '/members/2', headers: as }).verdict?.reason, 'account_quota');

    h.reload(rules('1/s', '1/s'));
    assert.equal(table(), first, 'same rule, same table');
    assert.equal(h.call({ url: '/members/2', headers: as }).verdict?.reason, 'account_quota', 'quota state survived');

    h.reload(rules('2/s', '1/s'));
    assert.equal(table(), first);
    assert.equal(h.call({ url: '/members/1', headers: as }).verdict?.reason, 'hot_key', 'hot-key state survived');
    assert.equal(h.call({ url: '/members/2', headers: as }).verdict, null, 'a changed quota starts from a fresh bucket');

    h.reload(rules('2/s', '5/s'));
    assert.notEqual(table(), first, 'a changed hot-key rate gets a fresh table');
    assert.equal(first.size, 0, 'the old table was disposed');
  });

  it('the usage profile follows the requests', () => {
    h = new Harness(makeRules({ accounts: [account({ id: 'order-center', owner: 'Li Wei', team: 'order-platform' })] }));
    // 10/s for 6 s; the rate is the mean of the last 5 complete seconds.
    for (let i = 0; i < 60; i++) {
      h.call({ url: `/members/${i}`, headers: as, remoteAddress: `10.0.0.${i % 3}` });
      h.clock.advance(100);
    }
    const snap = h.usage.snapshotOf('order-center');
    assert.equal(snap?.owner, 'Li Wei');
    assert.equal(snap?.usage.requests_total, 60);
    assert.ok(Math.abs((snap?.usage.requests_per_second ?? 0) - 10) < 1e-9, `rate ${snap?.usage.requests_per_second}`);
    assert.equal(snap?.usage.sources.length, 3);
    assert.deepEqual(snap?.usage.routes_called, [{ name: 'GET /members/*', count: 60 }]);
    assert.notEqual(snap?.usage.last_seen, null);
  });
});
