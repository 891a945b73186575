import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { account, makeRules, rate } from '../helpers/rules-fixture.ts';
import { Harness, metricValue } from './harness.ts';
import { sameKey } from '../../src/guards/caller.ts';

const SECRET = 's3cret-order-center';
const keySha256 = createHash('sha256').update(SECRET).digest('hex');
let h: Harness;
afterEach(() => h.close());

describe('caller identification', () => {
  it('auth key: the right key is admitted and identifies the account and class', () => {
    h = new Harness(makeRules({ callers: { auth: 'key' }, accounts: [account({ id: 'order-center', keySha256 })] }));
    const { ctx, verdict } = h.call({ headers: { 'x-caller-account': 'order-center', 'x-caller-key': SECRET } });
    assert.equal(verdict, null);
    assert.equal(ctx.accountId, 'order-center');
    assert.equal(ctx.className, 'order');
    assert.equal(ctx.account?.id, 'order-center');
  });

  it('auth key: a wrong or missing key is 401 bad_key, counted against the account', async () => {
    h = new Harness(makeRules({ callers: { auth: 'key' }, accounts: [account({ id: 'order-center', keySha256 })] }));
    const wrong = h.call({ headers: { 'x-caller-account': 'order-center', 'x-caller-key': 'guess' } });
    assert.equal(wrong.verdict?.reason, 'bad_key');
    assert.equal(wrong.ctx.accountId, 'order-center', 'a wrong key is counted under the claimed account, in every metric');
    assert.equal(h.call({ headers: { 'x-caller-account': 'order-center' } }).verdict?.reason, 'bad_key');
    assert.equal(await metricValue(h.metrics.rejections, { account: 'order-center', class: 'order', reason: 'bad_key' }), 2);
    assert.deepEqual(h.usage.snapshotOf('order-center')?.usage.rejections, { bad_key: 2 });
  });

  it('auth key: after a right key, wrong keys of the same or another length are still refused', () => {
    h = new Harness(makeRules({ callers: { auth: 'key' }, accounts: [account({ id: 'order-center', keySha256 })] }));
    const call = (key: string) => h.call({ headers: { 'x-caller-account': 'order-center', 'x-caller-key': key } }).verdict?.reason ?? 'admitted';
    assert.equal(call(SECRET), 'admitted');
    const sameLength = SECRET.slice(0, -1) + (SECRET.endsWith('x') ? 'y' : 'x');
    for (const key of [sameLength, SECRET + 'x', SECRET.slice(1), 'guess']) assert.equal(call(key), 'bad_key', `key '${key}'`);
    assert.equal(call(SECRET), 'admitted', 'the right key again, after the wrong ones');
    assert.equal(call(String(SECRET)), 'admitted');
  });

  it('the verified-key comparison answers equality for keys of any length and alphabet', () => {
    const verified = 'k3y-ünï-密钥-0042';
    assert.equal(sameKey(verified, verified), true);
    assert.equal(sameKey(String(verified.slice(0, 4)) + verified.slice(4), verified), true, 'an equal key built elsewhere');
    const differing = [
      'x' + verified.slice(1), // first unit
      verified.slice(0, -1) + '3', // last unit
      verified.slice(0, 8) + 'u' + verified.slice(9), // an ASCII unit for a non-ASCII one
      verified.slice(0, -1), // a prefix
      verified + '2', // an extension
      '',
      verified.toUpperCase(),
    ];
    for (const key of differing) assert.equal(sameKey(key, verified), false, `'${key}'`);
    assert.equal(sameKey('', ''), true);
  });

  it('auth trust: the account header is believed without a key', () => {
    h = new Harness(makeRules({ callers: { auth: 'trust' }, accounts: [account({ id: 'order-center', keySha256 })] }));
    assert.equal(h.call({ headers: { 'x-caller-account': 'order-center' } }).verdict, null);
  });

  it('unknown: reject answers 401 unknown_caller for a missing or unregistered account', async () => {
    h = new Harness(makeRules({ callers: { unknown: 'reject' } }));
    assert.equal(h.call({}).verdict?.reason, 'unknown_caller');
    assert.equal(h.call({ headers: { 'x-caller-account': 'nobody' } }).verdict?.reason, 'unknown_caller');
    assert.equal(await metricValue(h.metrics.rejections, { account: 'unknown', class: 'none', reason: 'unknown_caller' }), 2);
  });

  it('unknown: a class name makes unknown callers share the unknown account and its quota', async () => {
    h = new Harness(makeRules({ callers: { unknown: 'marketing', unknownQuota: rate('10/s') } }));
    const first = h.call({ headers: { 'x-caller-account': 'stranger' } });
    assert.equal(first.verdict, null);
    assert.equal(first.ctx.accountId, 'unknown');
    assert.equal(first.ctx.className, 'marketing');
    const run = h.offer({}, 10, 1000);
    assert.ok(run.admitted >= 9 && run.admitted <= 10, `admitted ${run.admitted}`);
    assert.equal(run.refused.get('account_quota'), 100 - run.admitted);
    h.call({});
    const refused = h.call({}); // the same instant: no room
    assert.deepEqual(refused.verdict?.limit, { policy: 'account', quota: 10, windowSeconds: 1 });
    assert.ok((refused.verdict?.retryAfterMs ?? 0) > 0);
    assert.ok((await metricValue(h.metrics.rejections, { account: 'unknown', class: 'marketing', reason: 'account_quota' })) >= 90);
    const snap = h.usage.snapshotOf('unknown');
    assert.equal(snap?.class, 'marketing');
    assert.equal(snap?.quota, '10/s');
    assert.equal(snap?.registered, false);
  });

  it('gives the ledger each call\'s identity, and records who tried an unregistered account under the name sent', () => {
    h = new Harness(makeRules({ callers: { unknown: 'reject' }, accounts: [account({ id: 'order-center' })] }));
    h.call({ headers: { 'x-caller-account': 'order-center', 'x-client-app': 'booking-web' } });
    h.call({ headers: { 'x-caller-account': 'order-center', 'x-client-app': 'coupon-batch' } });
    h.call({ headers: { 'x-caller-account': 'order-center', 'x-client-app': 'booking-web' } });
    assert.deepEqual([...h.usage.of('order-center').pendingIdentities.counts()].map((c) => [c.name, c.n]), [['booking-web', 2], ['coupon-batch', 1]]);
    h.call({ headers: { 'x-caller-account': 'ghost-app', 'x-client-app': 'mystery-cron' } });
    h.call({});
    const tried = [...h.usage.unregisteredAll()];
    assert.deepEqual(tried.map((u) => [u.id, u.requests]), [['ghost-app', 1], ['', 1]]);
    assert.deepEqual([...tried[0].pendingIdentities.counts()].map((c) => c.name), ['mystery-cron']);
    assert.deepEqual(tried[0].rejectionTotals(), new Map([['unknown_caller', 1]]));
    assert.equal(h.usage.has('ghost-app'), false, 'an unregistered name is never an account');
  });
});
