// Memory stays bounded however many distinct values callers send: 1M member ids, 100k source
// addresses and 10k raw paths through the compiled limit pipeline (usage profiles, route
// templates and hot-key tables included). The heap after the first 200k requests and after the
// whole million must be about the same: growth that goes on with the count would be a leak.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { HotKeyGuard } from '../../src/guards/hot-key.ts';
import { account, hotKey, makeRules, rate } from '../helpers/rules-fixture.ts';
import { report } from '../helpers/fleet-scenarios.ts';
import { Harness } from './harness.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const REQUESTS = 1_000_000;
const ADDRESSES = 100_000;
const RAW_PATHS = 10_000;
const TRACK = 10_000;
/** Heap growth allowed between 200k and 1M requests: noise, not a structure growing with the count. */
const GROWTH_BOUND = 8 * 1024 * 1024;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('memory under millions of distinct values (compiled pipeline)', () => {
  it('1M member ids, 100k addresses and 10k raw paths: tables, profiles and heap stay bounded', () => {
    const h = new Harness(
      makeRules({
        callers: { unknown: 'order', unknownQuota: rate('1000000/s') },
        accounts: [account({ id: 'order-center', quota: rate('1000000/s'), burst: 100000 }), account({ id: 'campaign', class: 'marketing' })],
        hotKeys: [
          hotKey({ name: 'member-id', key: 'path:/members/{id}', rate: rate('5/s'), burst: 5, track: TRACK }),
          hotKey({ name: 'client-ip', key: 'ip', rate: rate('50/s'), burst: 10, track: TRACK }),
          hotKey({ name: 'client-app', key: 'header:x-client-app', rate: rate('1000/s'), burst: 100, track: TRACK }),
        ],
      }),
    );
    const callers = ['order-center', 'campaign', 'stranger'];
    const headers = callers.map((name) => ({ 'x-caller-account': name }));
    const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    let admitted = 0;
    let measuredAt200k = 0;
    const started = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      // Member lookups under distinct ids, and raw paths whose segments do not look like ids, so
      // each one is a distinct call template too.
      const url = i % 4 === 3 ? `/p${i % RAW_PATHS}x/detail?i=${i}` : `/members/${i}`;
      const request = { url, headers: i % 10 === 0 ? { ...headers[i % 3], 'x-client-app': `app-${i}` } : headers[i % 3], remoteAddress: address(i % ADDRESSES) };
      if (h.call(request).verdict === null) admitted++;
      if (i % 50 === 0) h.clock.advance(1);
      if (i === 200_000) measuredAt200k = heapUsed();
    }
    const seconds = (performance.now() - started) / 1000;
    const atEnd = heapUsed();

    const guard = h.guards.find((g) => g instanceof HotKeyGuard);
    assert.ok(guard instanceof HotKeyGuard);
    const tracked = guard.rules.map((r) => r.table.size);
    const profiles = h.usage.snapshot();
    const figures = {
      requests: REQUESTS,
      admitted,
      requestsPerSecond: Math.round(REQUESTS / seconds),
      heapAt200kMiB: +(measuredAt200k / 2 ** 20).toFixed(1),
      heapAt1MMiB: +(atEnd / 2 ** 20).toFixed(1),
      hotKeysTracked: Object.fromEntries(guard.rules.map((r, i) => [r.rule.name, tracked[i]])),
      profiles: profiles.map((p) => ({ id: p.id, sources: p.usage.sources.length, sourcesOverflow: p.usage.sources_overflow, routes: p.usage.routes_called.length, routesOverflow: p.usage.routes_overflow })),
    };
    report('memory under 1M distinct ids', figures);

    for (const size of tracked) assert.ok(size <= TRACK, `a hot-key table holds ${size} keys, track ${TRACK}`);
    assert.equal(profiles.length, 3, 'one profile per registered account plus the shared unknown one');
    for (const p of profiles) {
      assert.ok(p.usage.sources.length <= 20, `${p.id}: ${p.usage.sources.length} sources kept`);
      assert.ok(p.usage.routes_called.length <= 50, `${p.id}: ${p.usage.routes_called.length} routes kept`);
      assert.ok(p.usage.sources_overflow > 0 && p.usage.routes_overflow > 0, `${p.id}: the overflow is counted`);
    }
    assert.ok(atEnd - measuredAt200k <= GROWTH_BOUND, `heap grew ${((atEnd - measuredAt200k) / 2 ** 20).toFixed(1)} MiB from 200k to 1M requests`);
    h.close();
  });
});
