// /metrics label values stay bounded against a whole sidecar process: callers sending distinct
// member ids, raw paths, unregistered account names and source addresses (spread over
// 127.0.0.0/8) never turn any of them into a label value, and the number of series does not
// grow with them.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { adminJson, metricsText } from '../helpers/admin.ts';
import { report } from '../helpers/fleet-scenarios.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';

const REQUESTS = 3000;
const CONCURRENCY = 16;

/** One GET from source address `from`; answers the status. */
function get(port: number, from: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, localAddress: from, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Label values of every sample in a Prometheus exposition, by label name. */
function labelValues(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes('{')) continue;
    for (const m of line.slice(line.indexOf('{') + 1, line.lastIndexOf('}')).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      let set = out.get(m[1]);
      if (set === undefined) out.set(m[1], (set = new Set()));
      set.add(m[2]);
    }
  }
  return out;
}

/** sluice's own series (the process metrics may add a GC kind or two over time). */
/** The sluice_* series of an exposition, by name and labels. */
const seriesOf = (text: string) => new Set(text.split('\n').filter((line) => line.startsWith('sluice_')).map((line) => line.slice(0, line.lastIndexOf(' '))));
const seriesCount = (text: string) => seriesOf(text).size;
/** A series first made by the later traffic (a status or a refusal reason seen late, say). */
const newSeries = (early: string, late: string) => {
  const before = seriesOf(early);
  return [...seriesOf(late)].filter((series) => !before.has(series));
};

describe('/metrics label values stay bounded (whole process)', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack((ports) =>
      memberServiceRules(
        ports,
        `limits:
  hot_keys:
    - { name: member-id, key: "path:/members/{id}", rate: 2/s, burst: 2, track: 1000 }
    - { name: client-ip, key: ip, rate: 1000/s, burst: 100, track: 1000 }
`,
      ).replace('unknown: reject', 'unknown: marketing\n  unknown_quota: 100000/s'),
    );
  });

  after(async () => {
    await stack?.close();
  });

  it('no member id, raw path, account name or address becomes a label; series do not grow with them', async () => {
    const port = stack.sidecar.port;
    const sent = { ids: new Set<string>(), paths: new Set<string>(), names: new Set<string>(), addresses: new Set<string>() };
    const statuses: Record<number, number> = {};
    const send = async (i: number): Promise<void> => {
      const from = `127.${1 + (i % 200)}.${(i >> 3) & 255}.${1 + (i % 250)}`;
      const id = `m${i}x${i * 7}`;
      const path = i % 3 === 0 ? `/members/${id}` : i % 3 === 1 ? `/raw/p${i}q/leaf-${i}` : `/members/${id}/level`;
      const caller = i % 4 === 0 ? `stranger-${i}` : i % 4 === 1 ? 'campaign' : 'order-center';
      sent.ids.add(id);
      sent.paths.add(path);
      if (caller.startsWith('stranger')) sent.names.add(caller);
      sent.addresses.add(from);
      const status = await get(port, from, path, { 'x-caller-account': caller });
      statuses[status] = (statuses[status] ?? 0) + 1;
    };
    const run = async (from: number, count: number) => {
      let next = from;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < from + count) await send(next++);
      }));
    };
    await run(0, REQUESTS / 3);
    const early = await metricsText(stack.sidecar);
    await run(REQUESTS / 3, (2 * REQUESTS) / 3);
    const late = await metricsText(stack.sidecar);

    const values = labelValues(late);
    const all = new Set<string>();
    for (const set of values.values()) for (const v of set) all.add(v);
    const leaked = [...all].filter((v) => sent.ids.has(v) || sent.paths.has(v) || sent.names.has(v) || sent.addresses.has(v) || /^127\.|\/members\/|^m\d+x/.test(v));
    const accounts = await adminJson<{ accounts: { id: string; usage: { sources: unknown[] } }[] }>(stack.sidecar, '/admin/accounts');
    const figures = {
      requests: REQUESTS,
      statuses,
      distinctAddresses: sent.addresses.size,
      distinctPaths: sent.paths.size,
      seriesAfterAThird: seriesCount(early),
      seriesAtEnd: seriesCount(late),
      newSeries: newSeries(early, late),
      labelValues: Object.fromEntries([...values].map(([k, v]) => [k, v.size])),
      accountValues: [...(values.get('account') ?? [])],
    };
    report('metrics cardinality', figures);

    assert.deepEqual(leaked, [], 'no request value is a label value');
    // Accounts from the rules plus 'unknown': a thousand unregistered names share that one.
    assert.deepEqual([...(values.get('account') ?? [])].sort(), ['campaign', 'order-center', 'unknown']);
    // The next two thirds send thousands of new ids, paths, names and addresses: the series barely
    // move (a status code or refusal reason first seen late adds its one series, bounded by the code).
    assert.ok(figures.newSeries.length <= 8, `series grew with distinct values: ${figures.newSeries.join(', ')}`);
    assert.ok((statuses[200] ?? 0) > 0, JSON.stringify(statuses));
    assert.ok(sent.addresses.size >= 1000, `distinct source addresses: ${sent.addresses.size}`);
    for (const a of accounts.accounts) assert.ok(a.usage.sources.length <= 20, `${a.id}: ${a.usage.sources.length} sources`);
  });
});
