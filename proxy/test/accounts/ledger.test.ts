import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HyperLogLog } from '../../src/accounts/hyperloglog.ts';
import { Ledger, type LedgerSink } from '../../src/accounts/ledger.ts';
import type { LedgerDelta } from '../../src/accounts/ledger-day.ts';
import { suggestedRate } from '../../src/accounts/report.ts';
import { UsageRegistry } from '../../src/accounts/usage.ts';
import { ManualClock } from '../../src/clock.ts';
import { Metrics } from '../../src/metrics.ts';
import { account, makeRules } from '../helpers/rules-fixture.ts';

/** 2026-03-01T00:00:00Z, in ms: day boundaries fall on multiples of 86 400 000. */
const DAY0 = Date.UTC(2026, 2, 1);

function setup(sink?: LedgerSink) {
  const clock = new ManualClock(0);
  const usage = new UsageRegistry(clock, { wallOffsetMs: DAY0 });
  usage.define(makeRules({ accounts: [account({ id: 'a' }), account({ id: 'b' })] }).callers);
  const ledger = new Ledger(usage, { sink });
  return { clock, usage, ledger };
}

describe('caller ledger', () => {
  it('HyperLogLog counts a few identities exactly and thousands within 5%', () => {
    const few = new HyperLogLog();
    for (const id of ['booking-web', 'coupon-batch', 'booking-web']) few.add(id);
    assert.equal(few.count(), 2);
    const many = new HyperLogLog();
    for (let i = 0; i < 5000; i++) many.add(`app-${i}`);
    const n = many.count();
    console.log(`HyperLogLog of 5000 distinct identities: ${n}`);
    assert.ok(Math.abs(n - 5000) / 5000 < 0.05, `counted ${n}`);
  });

  it('counts identities exactly up to 100 a day, estimates beyond, and unions days without double counting', () => {
    const { clock, usage, ledger } = setup();
    const a = usage.of('a');
    // Day 1: apps 0..59; day 2: apps 30..89 (30 shared): 90 distinct, exactly.
    for (let i = 0; i < 60; i++) a.identify(`app-${i}`);
    clock.set(1200);
    ledger.flush();
    clock.set(86_400_000 + 1200);
    for (let i = 30; i < 90; i++) a.identify(`app-${i}`);
    ledger.flush();
    assert.equal(ledger.summary('a', 1).identities, 60);
    assert.equal(ledger.summary('a', 2).identities, 90, 'the union of the two days counts the shared 30 once');
    // A third day past 100 distinct: the day switches to an estimate that still includes the first 100.
    // (At most 256 identities wait between two passes, so they arrive over two.)
    clock.set(2 * 86_400_000 + 1200);
    for (let i = 0; i < 200; i++) a.identify(`svc-${i}`);
    ledger.flush();
    clock.set(2 * 86_400_000 + 2200);
    for (let i = 200; i < 400; i++) a.identify(`svc-${i}`);
    ledger.flush();
    const day3 = ledger.summary('a', 1).identities;
    assert.ok(Math.abs(day3 - 400) / 400 < 0.05, `day 3 counted ${day3}`);
    const all = ledger.summary('a', 3).identities;
    assert.ok(Math.abs(all - 490) / 490 < 0.05, `three days counted ${all}`);
  });

  it('takes requests, peak per second, identities, routes and rejections once a pass, per UTC day', () => {
    const { clock, usage, ledger } = setup();
    const a = usage.of('a');
    // Second 0: 5 requests from two apps; second 1: 12 from one.
    for (let i = 0; i < 5; i++) {
      clock.set(100 + i);
      a.seen(clock.now(), '10.0.0.1');
      a.identify(i % 2 === 0 ? 'booking-web' : 'coupon-batch');
      a.route('GET /members/*');
    }
    for (let i = 0; i < 12; i++) {
      clock.set(1100 + i);
      a.seen(clock.now(), '10.0.0.1');
      a.identify('booking-web');
    }
    a.rejected('account_quota');
    clock.set(2050);
    ledger.flush();
    const s = ledger.summary('a', 1);
    assert.equal(s.requests, 17);
    assert.equal(s.peak_rps, 12);
    assert.equal(s.identities, 2);
    assert.deepEqual(s.top_identities, [{ name: 'booking-web', count: 15 }, { name: 'coupon-batch', count: 2 }]);
    assert.deepEqual(s.routes, [{ name: 'GET /members/*', count: 5 }]);
    assert.deepEqual(s.rejections, { account_quota: 1 });
    assert.equal(s.first_seen, new Date(DAY0).toISOString());
    assert.equal(s.per_day[0].day, '2026-03-01');

    // A second pass adds only what is new.
    clock.set(2500);
    a.seen(clock.now(), '10.0.0.1');
    clock.set(3200);
    ledger.flush();
    assert.equal(ledger.summary('a', 1).requests, 18);
    assert.equal(ledger.summary('b', 1).requests, 0);

    // The next UTC day starts empty; a 2-day period sums both.
    clock.set(86_400_000 + 10);
    a.seen(clock.now(), '10.0.0.1');
    a.identify('night-job');
    clock.set(86_400_000 + 1500);
    ledger.flush();
    assert.equal(ledger.summary('a', 1).requests, 1);
    const two = ledger.summary('a', 2);
    assert.equal(two.requests, 19);
    assert.equal(two.identities, 3);
    assert.deepEqual(two.per_day.map((d) => d.day), ['2026-03-01', '2026-03-02']);
  });

  it('records unregistered names apart, bounded, and hands one batch per pass to the sink', async () => {
    const batches: LedgerDelta[][] = [];
    const sink: LedgerSink = {
      write: (batch) => {
        batches.push([...batch]);
        return Promise.resolve(new Map([['a', 7]]));
      },
      close: () => Promise.resolve(),
    };
    const { clock, usage, ledger } = setup(sink);
    const ghost = usage.unregistered('ghost-app');
    assert.ok(ghost);
    ghost.seen(clock.now(), '10.0.0.9');
    ghost.identify('mystery-cron');
    ghost.rejected('unknown_caller');
    usage.of('a').seen(clock.now(), '10.0.0.1');
    clock.set(1500);
    ledger.flush();
    ledger.flush();
    await ledger.close();
    assert.equal(batches.length, 1, 'a pass with nothing new sends nothing');
    assert.deepEqual(batches[0].map((d) => [d.id, d.registered, d.requests]), [['a', true, 1], ['ghost-app', false, 1]]);
    assert.equal(ledger.summary('ghost-app', 1, false).identities, 1);
    assert.deepEqual(ledger.unregisteredNames(), ['ghost-app']);
    const small = new UsageRegistry(clock, { maxUnregistered: 2 });
    for (const name of ['x', 'y', 'z']) small.unregistered(name)?.seen(clock.now(), '10.0.0.9');
    assert.equal(small.unregisteredOverflow, 1);
    // A day later, names nobody sent since make room for new ones.
    clock.advance(86_400_000 + 1000);
    assert.ok(small.unregistered('z'));
    assert.deepEqual([...small.unregisteredAll()].map((u) => u.id), ['z']);
  });

  it('a sink that fails drops its batch and never throws', async () => {
    const sink: LedgerSink = { write: () => Promise.reject(new Error('redis away')), close: () => Promise.resolve() };
    const { clock, usage, ledger } = setup(sink);
    usage.of('a').seen(clock.now(), '10.0.0.1');
    clock.set(1500);
    ledger.flush();
    await ledger.close();
    assert.equal(ledger.droppedBatches, 1);
    assert.equal(ledger.summary('a', 1).requests, 1, 'the in-process ledger keeps it');
  });

  it('suggests peak × 1.5 rounded up to two significant digits', () => {
    assert.deepEqual([0, 1, 50, 51, 133, 1234, 20000].map(suggestedRate), [1, 2, 75, 77, 200, 1900, 30000]);
  });

  it('sluice_account_identities follows today\'s count per account, and drops accounts no longer registered', async () => {
    const clock = new ManualClock(0);
    const usage = new UsageRegistry(clock, { wallOffsetMs: DAY0 });
    const metrics = new Metrics({ defaultMetrics: false });
    usage.define(makeRules({ accounts: [account({ id: 'a' }), account({ id: 'b' })] }).callers);
    const ledger = new Ledger(usage, { identitiesGauge: metrics.accountIdentities });
    for (const app of ['booking-web', 'coupon-batch', 'booking-web']) {
      usage.of('a').seen(clock.now(), '10.0.0.1');
      usage.of('a').identify(app);
    }
    clock.set(1200);
    ledger.flush();
    const values = async () =>
      Object.fromEntries((await metrics.accountIdentities.get()).values.map((v) => [String(v.labels.account), v.value]));
    assert.deepEqual(await values(), { a: 2, b: 0 });
    usage.define(makeRules({ accounts: [account({ id: 'a' })] }).callers);
    ledger.flush();
    assert.deepEqual(await values(), { a: 2 });
  });

  it('keeps the last eight UTC days in process: each new day drops the ones past them', () => {
    const { clock, usage, ledger } = setup();
    const a = usage.of('a');
    for (let day = 0; day < 10; day++) {
      clock.set(day * 86_400_000 + 10);
      for (let i = 0; i <= day; i++) a.seen(clock.now(), '10.0.0.1');
      clock.set(day * 86_400_000 + 1500);
      ledger.flush();
    }
    const kept = ledger.summary('a', 10);
    assert.deepEqual(kept.per_day.map((d) => d.day), ['2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10']);
    // Days 2..9 had day + 1 requests each.
    assert.equal(kept.requests, 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10);
  });

  it('a pass just after midnight puts the last second of the day on that day\'s peak', () => {
    const { clock, usage, ledger } = setup();
    const a = usage.of('a');
    clock.set(86_399_500);
    for (let i = 0; i < 7; i++) a.seen(clock.now(), '10.0.0.1');
    clock.set(86_400_600);
    for (let i = 0; i < 3; i++) a.seen(clock.now(), '10.0.0.1');
    clock.set(86_401_200);
    ledger.flush();
    const two = ledger.summary('a', 2);
    assert.deepEqual(two.per_day.map((d) => [d.day, d.peak_rps]), [['2026-03-01', 7], ['2026-03-02', 3]]);
    assert.equal(two.requests, 10);
  });
});
