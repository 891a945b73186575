import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageRegistry } from '../../src/accounts/usage.ts';
import { ManualClock } from '../../src/clock.ts';
import { account, makeRules, rate } from '../helpers/rules-fixture.ts';

describe('usage registry', () => {
  it('bounds routes and source addresses per account, counting the overflow', () => {
    const usage = new UsageRegistry(new ManualClock(0));
    usage.define(makeRules({ accounts: [account({ id: 'a' })] }).callers);
    const a = usage.of('a');
    for (let i = 0; i < 80; i++) {
      a.seen(i, `10.0.${i}.1`);
      a.route(`GET /r${i}`);
    }
    const snap = usage.snapshotOf('a');
    assert.equal(snap?.usage.routes_called.length, 50);
    assert.equal(snap?.usage.routes_overflow, 30);
    assert.equal(snap?.usage.sources.length, 20);
    assert.equal(snap?.usage.sources_overflow, 60);
  });

  it('requests per second over the last complete seconds, and a wall-clock last seen', () => {
    const clock = new ManualClock(0);
    const usage = new UsageRegistry(clock);
    usage.define(makeRules({ accounts: [account({ id: 'a' })] }).callers);
    const a = usage.of('a');
    for (let t = 0; t < 5000; t += 20) a.seen((clock.set(t), t), '1.2.3.4'); // 50/s for 5 s
    clock.set(5000);
    assert.equal(a.requestsPerSecond(clock.now()), 50);
    clock.set(20_000);
    assert.equal(a.requestsPerSecond(clock.now()), 0, 'old seconds age out of the ring');
    const seen = usage.snapshotOf('a')?.usage.last_seen;
    assert.ok(seen !== null && seen !== undefined);
    assert.ok(Math.abs(Date.parse(seen) - (Date.now() - 15_020)) < 1000);
  });

  it('registrations follow the rules; usage of kept accounts survives a redefinition', () => {
    const usage = new UsageRegistry(new ManualClock(0));
    usage.define(
      makeRules({ accounts: [account({ id: 'a', quota: rate('5/s'), routes: ['GET /x'] }), account({ id: 'b' })], callers: { unknown: 'marketing', unknownQuota: rate('1/s') } })
        .callers,
    );
    usage.of('a').seen(1, 'x');
    assert.deepEqual(
      usage.snapshot().map((s) => s.id),
      ['a', 'b', 'unknown'],
    );
    const a = usage.snapshotOf('a');
    assert.equal(a?.quota, '5/s');
    assert.deepEqual(a?.routes, ['GET /x']);
    usage.define(makeRules({ accounts: [account({ id: 'a', team: 'new-team' })] }).callers);
    assert.deepEqual(
      usage.snapshot().map((s) => s.id),
      ['a'],
    );
    assert.equal(usage.snapshotOf('a')?.team, 'new-team');
    assert.equal(usage.snapshotOf('a')?.usage.requests_total, 1);
    assert.equal(usage.snapshotOf('b'), null);
  });
});
