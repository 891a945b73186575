import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { account, hotKey, makeRules, rate } from '../helpers/rules-fixture.ts';
import { Harness, metricValue } from './harness.ts';

let h: Harness;
afterEach(() => h.close());
const asOrder = { 'x-caller-account': 'order-center' };

describe('account quota', () => {
  it('200/s saturated for 3 s admits 600 ± 3% (+burst), refusing the rest with 429 account_quota', async () => {
    h = new Harness(makeRules({ accounts: [account({ id: 'order-center', quota: rate('200/s'), burst: 20 })] }));
    const run = h.offer({ headers: asOrder }, 0.5, 3000);
    assert.ok(Math.abs(run.admitted - 620) <= 18, `admitted ${run.admitted}`);
    assert.equal(run.refused.get('account_quota'), 6000 - run.admitted);
    assert.equal(await metricValue(h.metrics.rejections, { account: 'order-center', class: 'order', reason: 'account_quota' }), 6000 - run.admitted);
    h.call({ headers: asOrder });
    const refused = h.call({ headers: asOrder });
    assert.deepEqual(refused.verdict?.limit, { policy: 'account', quota: 200, windowSeconds: 1 });
  });

  it('an N/min quota is announced as q=N;w=60', () => {
    h = new Harness(makeRules({ accounts: [account({ id: 'order-center', quota: rate('120/min') })] }));
    // 2/s has the default burst 1: two at once, then one per 500 ms.
    assert.equal(h.call({ headers: asOrder }).verdict, null);
    assert.equal(h.call({ headers: asOrder }).verdict, null);
    const refused = h.call({ headers: asOrder });
    assert.equal(refused.verdict?.reason, 'account_quota');
    assert.deepEqual(refused.verdict?.limit, { policy: 'account', quota: 120, windowSeconds: 60 });
    assert.ok(Math.abs((refused.verdict?.retryAfterMs ?? 0) - 500) < 1e-6);
  });

  it('a request refused by a later guard uses up none of the quota', () => {
    h = new Harness(
      makeRules({
        accounts: [account({ id: 'order-center', quota: rate('5/s'), burst: 4 })],
        hotKeys: [hotKey({ rate: rate('1/s'), burst: 0 })],
      }),
    );
    // 5 may pass at once. The first takes quota; the next four are refused by the hot key (zero
    // tolerance: one per second per id) and must give their quota back.
    assert.equal(h.call({ url: '/members/1', headers: asOrder }).verdict, null);
    for (let i = 0; i < 4; i++) assert.equal(h.call({ url: '/members/1', headers: asOrder }).verdict?.reason, 'hot_key');
    let admitted = 0;
    for (let i = 0; i < 10; i++) if (h.call({ url: `/members/${100 + i}`, headers: asOrder }).verdict === null) admitted++;
    assert.equal(admitted, 4, 'the four hot-key refusals consumed no quota');
  });
});
