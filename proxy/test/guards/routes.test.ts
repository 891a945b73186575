import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { account, makeRules } from '../helpers/rules-fixture.ts';
import { Harness, metricValue } from './harness.ts';

let h: Harness;
afterEach(() => h.close());

const accounts = [
  account({ id: 'order-center', routes: ['GET /members/*', 'GET /members/*/level'] }),
  account({ id: 'reporting' }), // no routes: any route
];
const asOrder = { 'x-caller-account': 'order-center' };

describe('routes allowed', () => {
  it('without enforce_routes: an off-scenario call is admitted, counted and profiled', async () => {
    h = new Harness(makeRules({ accounts, callers: { enforceRoutes: false } }));
    assert.equal(h.call({ url: '/members/1', headers: asOrder }).verdict, null);
    assert.equal(h.call({ url: '/members/2', headers: asOrder }).verdict, null);
    assert.equal(h.call({ method: 'POST', url: '/orders/77', headers: asOrder }).verdict, null);
    assert.equal(await metricValue(h.metrics.offScenario, { account: 'order-center' }), 1);
    const usage = h.usage.snapshotOf('order-center')?.usage;
    assert.equal(usage?.off_scenario, 1);
    assert.deepEqual(usage?.routes_called, [
      { name: 'GET /members/*', count: 2 },
      { name: 'POST /orders/*', count: 1 },
    ]);
  });

  it('with enforce_routes: an off-scenario call is 403 route_not_allowed; routes-free accounts pass', async () => {
    h = new Harness(makeRules({ accounts, callers: { enforceRoutes: true } }));
    assert.equal(h.call({ url: '/members/1/level', headers: asOrder }).verdict, null);
    const refused = h.call({ method: 'DELETE', url: '/members/1', headers: asOrder });
    assert.equal(refused.verdict?.reason, 'route_not_allowed');
    assert.equal(await metricValue(h.metrics.rejections, { account: 'order-center', class: 'order', reason: 'route_not_allowed' }), 1);
    assert.equal(await metricValue(h.metrics.offScenario, { account: 'order-center' }), 1);
    assert.equal(h.call({ method: 'DELETE', url: '/anything/9', headers: { 'x-caller-account': 'reporting' } }).verdict, null);
    assert.deepEqual(h.usage.snapshotOf('reporting')?.usage.routes_called, [{ name: 'DELETE /anything/*', count: 1 }]);
  });

  it('no account with routes: no routes guard, yet calls are profiled', () => {
    h = new Harness(makeRules({ accounts: [account({ id: 'reporting' })], callers: { enforceRoutes: true } }));
    assert.deepEqual(
      h.guards.map((g) => g.name),
      ['caller'],
    );
    h.call({ url: '/members/5', headers: { 'x-caller-account': 'reporting' } });
    assert.deepEqual(h.usage.snapshotOf('reporting')?.usage.routes_called, [{ name: 'GET /members/*', count: 1 }]);
  });
});
