import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { HotKeyGuard, listHotKeys } from '../../src/guards/hot-key.ts';
import { defaultBurst } from '../../src/rules/burst.ts';
import { account, hotKey, makeRules, rate } from '../helpers/rules-fixture.ts';
import { Harness, metricValue } from './harness.ts';

let h: Harness;
afterEach(() => h.close());
const as = { 'x-caller-account': 'order-center' };

describe('hot-key guard', () => {
  it('throttles a hot member id while other ids pass; overrides have their own rate', async () => {
    h = new Harness(
      makeRules({
        accounts: [account({ id: 'order-center' })],
        hotKeys: [hotKey({ rate: rate('50/s'), overrides: new Map([['10086', rate('500/s')]]) })],
      }),
    );
    let hot = 0;
    let vip = 0;
    let others = 0;
    for (let i = 0; i < 2000; i++) {
      if (h.call({ url: '/members/42', headers: as }).verdict === null) hot++;
      if (h.call({ url: '/members/10086', headers: as }).verdict === null) vip++;
      if (h.call({ url: `/members/${1000 + (i % 500)}`, headers: as }).verdict === null) others++;
      h.clock.advance(1);
    }
    // rate × 2 s + the default burst at each rate (5 and 50) + 1.
    assert.ok(hot >= 99 + defaultBurst(50) && hot <= 101 + defaultBurst(50), `hot ${hot}`);
    assert.ok(vip >= 990 + defaultBurst(500) && vip <= 1001 + defaultBurst(500), `override ${vip}`);
    assert.equal(others, 2000);
    h.call({ url: '/members/42', headers: as });
    const refused = h.call({ url: '/members/42', headers: as });
    assert.equal(refused.verdict?.reason, 'hot_key');
    assert.deepEqual(refused.verdict?.limit, { policy: 'hot_key', quota: 50, windowSeconds: 1 });
    h.call({ url: '/members/10086', headers: as });
    assert.deepEqual(h.call({ url: '/members/10086', headers: as }).verdict?.limit, { policy: 'hot_key', quota: 500, windowSeconds: 1 });
    assert.ok((await metricValue(h.metrics.rejections, { account: 'order-center', reason: 'hot_key' })) > 1800);
  });

  it('a path outside the key template is not subject to the rule', () => {
    h = new Harness(makeRules({ hotKeys: [hotKey({ rate: rate('1/s') })] }));
    for (let i = 0; i < 5; i++) assert.equal(h.call({ url: '/members/7/level', headers: as }).verdict, null);
  });

  it('lists keys near or over their rate and publishes how many are tracked', async () => {
    h = new Harness(makeRules({ hotKeys: [hotKey({ rate: rate('10/s'), burst: 4, track: 100 })] }));
    for (let i = 0; i < 8; i++) h.call({ url: '/members/hot', headers: as });
    h.call({ url: '/members/calm', headers: as });
    const listing = listHotKeys(h.guards, 0.8, 10);
    assert.equal(listing.length, 1);
    assert.equal(listing[0].rule, 'member-id');
    assert.deepEqual(
      listing[0].keys.map((k) => [k.key, k.over]),
      [['hot', true]],
    );
    assert.equal(await metricValue(h.metrics.hotKeysTracked, { rule: 'member-id' }), 2);
    // Refreshed every 1024 checks, not per request.
    for (let i = 0; i < 1100; i++) h.call({ url: `/members/x${i}`, headers: as });
    assert.equal(await metricValue(h.metrics.hotKeysTracked, { rule: 'member-id' }), 100);
  });

  it('a shadow rule counts what it would refuse but admits', async () => {
    h = new Harness(makeRules({ hotKeys: [hotKey({ rate: rate('1/s'), shadow: true })] }));
    // 1/s with the default burst 1: two conform at once, the other three are counted.
    for (let i = 0; i < 5; i++) {
      const { ctx, verdict } = h.call({ url: '/members/9', headers: as });
      assert.equal(verdict, null);
      assert.equal(ctx.shadowed, i > defaultBurst(1));
    }
    assert.equal(await metricValue(h.metrics.shadowRejections, { account: 'order-center', class: 'order', reason: 'hot_key' }), 3);
    assert.equal(await metricValue(h.metrics.rejections, { reason: 'hot_key' }), 0);
  });

  it('the guard holds its tables for the admin listing', () => {
    h = new Harness(makeRules({ hotKeys: [hotKey(), hotKey({ name: 'by-ip', key: 'ip' })] }));
    const guard = h.guards.find((g) => g instanceof HotKeyGuard);
    assert.ok(guard instanceof HotKeyGuard);
    assert.deepEqual(
      guard.rules.map((r) => r.table.name),
      ['member-id', 'by-ip'],
    );
  });
});

describe('hot-key refunds with many rules', () => {
  it('gives back every rule\'s take when a later guard refuses, past the 28th rule too', () => {
    // 40 rules on 40 different headers, each at 1/s with no burst: one take per key and second.
    const rules = Array.from({ length: 40 }, (_, i) => hotKey({ name: `h${i}`, key: `header:x-k${i}`, rate: rate('1/s'), burst: 0 }));
    h = new Harness(makeRules({ accounts: [account({ id: 'order-center' })], hotKeys: rules }));
    const guard = h.guards.find((g) => g instanceof HotKeyGuard);
    assert.ok(guard instanceof HotKeyGuard);
    const headers: Record<string, string> = { ...as };
    for (let i = 0; i < 40; i++) headers[`x-k${i}`] = 'same';
    // Taken by every rule, then refused by a later guard: every take is given back, so the very
    // same request at the very same instant passes again (40 times over).
    for (let round = 0; round < 40; round++) {
      const { ctx, verdict } = h.call({ url: '/members/1', headers });
      assert.equal(verdict, null, `round ${round}`);
      guard.refund(ctx);
    }
    // Not refunded now: at the same instant the keys admit as many as keys never used do.
    const admittedUntilRefused = (values: Record<string, string>): number => {
      let n = 0;
      while (h.call({ url: '/members/1', headers: values }).verdict === null) n++;
      return n;
    };
    const fresh: Record<string, string> = { ...as };
    for (let i = 0; i < 40; i++) fresh[`x-k${i}`] = 'fresh';
    const capacity = admittedUntilRefused(fresh);
    assert.ok(capacity >= 1 && capacity <= 3, `capacity ${capacity}`);
    assert.equal(admittedUntilRefused(headers), capacity);
  });

  it('a refusal by the 35th rule gives back what the 34 before it took', () => {
    const rules = Array.from({ length: 35 }, (_, i) => hotKey({ name: `h${i}`, key: `header:x-k${i}`, rate: rate('1/s'), burst: 0 }));
    h = new Harness(makeRules({ accounts: [account({ id: 'order-center' })], hotKeys: rules }));
    const base: Record<string, string> = { ...as };
    for (let i = 0; i < 34; i++) base[`x-k${i}`] = 'a';
    // Use up rule 34's key 'hot', then send requests whose 35th key is 'hot': refused each time,
    // and each refusal must return the other 34 takes (their key 'a' stays free).
    assert.equal(h.call({ url: '/', headers: { ...as, 'x-k34': 'hot' } }).verdict, null);
    for (let n = 0; n < 5; n++) assert.equal(h.call({ url: '/', headers: { ...base, 'x-k34': 'hot' } }).verdict?.reason, 'hot_key');
    assert.equal(h.call({ url: '/', headers: base }).verdict, null, 'the 34 keys were given back');
  });
});
