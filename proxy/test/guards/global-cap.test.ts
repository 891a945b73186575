import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { GlobalCapGuard } from '../../src/guards/global-cap.ts';
import { defaultBurst } from '../../src/rules/burst.ts';
import { account, globalLimit, makeRules } from '../helpers/rules-fixture.ts';
import { Harness, metricValue } from './harness.ts';

let h: Harness;
afterEach(() => h.close());

const classes = [
  { name: 'order', priority: 0, cluster: 'primary', failover: 'backup', maxShare: 1 },
  { name: 'marketing', priority: 1, cluster: 'marketing', failover: null, maxShare: 0.25 },
];
const accounts = [account({ id: 'order-center', class: 'order' }), account({ id: 'campaign', class: 'marketing' })];
const asOrder = { 'x-caller-account': 'order-center' };
const asCampaign = { 'x-caller-account': 'campaign' };

function meterOf(harness: Harness): GlobalCapGuard {
  const guard = harness.guards.find((g) => g instanceof GlobalCapGuard);
  assert.ok(guard instanceof GlobalCapGuard);
  return guard;
}

describe('global cap with class ceilings', () => {
  it('cap 400/s, marketing max_share 0.25: a marketing flood is held to ~100/s, order traffic untouched', async () => {
    h = new Harness(makeRules({ classes, accounts, global: globalLimit('400/s') }));
    const meter = meterOf(h).meter;
    let order = 0;
    let orderRefused = 0;
    let marketing = 0;
    let marketingLastSecond = 0;
    // 3 s: marketing every 0.5 ms (2000/s), order every 4 ms (250/s).
    for (let step = 0; step < 6000; step++) {
      if (step % 2000 === 0) meter.flush();
      const m = h.call({ headers: asCampaign }).verdict;
      if (m === null) {
        marketing++;
        if (step >= 4000) marketingLastSecond++;
      } else assert.equal(m.reason, 'global_cap');
      if (step % 8 === 0) {
        if (h.call({ headers: asOrder }).verdict === null) order++;
        else orderRefused++;
      }
      h.clock.advance(0.5);
    }
    meter.flush();
    assert.equal(orderRefused, 0);
    assert.equal(order, 750);
    // 100/s × 3 s, plus the class bucket's default burst (a tenth of a second) spent at the start.
    const burst = defaultBurst(100);
    assert.ok(marketing >= 297 && marketing <= 303 + burst, `marketing admitted ${marketing}`);
    assert.ok(Math.abs(marketingLastSecond - 100) <= 2);
    assert.equal(await metricValue(h.metrics.globalAdmittedRatio, { class: 'order' }), 250 / 400);
    assert.ok(Math.abs((await metricValue(h.metrics.globalAdmittedRatio, { class: 'marketing' })) - 0.25) <= 0.01);
    assert.ok((await metricValue(h.metrics.rejections, { account: 'campaign', class: 'marketing', reason: 'global_cap' })) > 5000);
    h.call({ headers: asCampaign });
    const refused = h.call({ headers: asCampaign }).verdict;
    assert.deepEqual(refused?.limit, { policy: 'global', quota: 100, windowSeconds: 1 });
  });

  it('the total holds at the cap when the top class floods alone', () => {
    h = new Harness(makeRules({ classes, accounts, global: globalLimit('400/s') }));
    const run = h.offer({ headers: asOrder }, 0.5, 2000);
    // rate × t + the default burst (a tenth of a second of 400/s) + 1
    const burst = defaultBurst(400);
    assert.ok(run.admitted >= 800 && run.admitted <= 800 + burst + 1, `admitted ${run.admitted}`);
  });

  it('a refused class takes nothing from the total', () => {
    h = new Harness(makeRules({ classes, accounts, global: globalLimit('400/s') }));
    h.offer({ headers: asCampaign }, 0.1, 1000); // 10 000 marketing attempts, ~100 admitted
    const order = h.offer({ headers: asOrder }, 0.5, 1000);
    assert.ok(order.admitted >= 390, `order admitted ${order.admitted} after the marketing flood`);
  });

  it('shadow: evaluated and counted, but everything is admitted', async () => {
    h = new Harness(makeRules({ classes, accounts, global: globalLimit('10/s', { shadow: true }) }));
    let shadowed = 0;
    for (let i = 0; i < 100; i++) {
      const { ctx, verdict } = h.call({ headers: asOrder });
      assert.equal(verdict, null);
      if (ctx.shadowed) shadowed++;
    }
    // The default burst of 10/s is 1: burst + 1 pass at one instant, the rest would have been refused.
    const refused = 100 - (defaultBurst(10) + 1);
    assert.equal(shadowed, refused);
    assert.equal(await metricValue(h.metrics.shadowRejections, { account: 'order-center', class: 'order', reason: 'global_cap' }), refused);
    assert.equal(await metricValue(h.metrics.rejections, { reason: 'global_cap' }), 0);
  });
});
