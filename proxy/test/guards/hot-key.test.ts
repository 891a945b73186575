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
