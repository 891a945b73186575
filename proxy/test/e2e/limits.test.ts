// Whole-process: caller identification, account quotas, hot keys, the global cap with class
// ceilings, route scenarios and account registration, through real sockets against a running
// `sluice start`; and limiter state across hot reloads.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { defaultBurst } from '../../src/rules/burst.ts';
import { adminJson, metricsText, metricValue } from '../helpers/admin.ts';
import { runLoad, send, startLoad, starvedMs, type Answer, type LoadTally } from '../helpers/load.ts';
import { SLUICE_BIN } from '../helpers/sidecar-process.ts';
import { startStack, type ClusterPorts, type Stack } from '../helpers/stack.ts';
import { clusterSections } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SHIPPED_RULES = fileURLToPath(new URL('../../../rules/', import.meta.url));
const run = promisify(execFile);

interface RejectionBody {
  error: string;
  reason: string;
  account: string;
  retry_after_ms: number;
}

const as = (account: string, key?: string): Record<string, string> =>
  key === undefined ? { 'x-caller-account': account } : { 'x-caller-account': account, 'x-caller-key': key };

/**
 * Checks one answer of a load against the 429 contract for `reason` and `policy`; answers what is
 * wrong with it, or null for a 200 or a conforming 429.
 */
function problemWith(answer: Answer, reason: string, policy: string, account: string): string | null {
  if (answer.status === 200) return null;
  if (answer.status !== 429) return `status ${answer.status}: ${answer.body}`;
  const h = answer.headers;
  const body = JSON.parse(answer.body) as RejectionBody;
  if (body.reason !== reason || h['x-sluice-reason'] !== reason) return `reason ${body.reason} / ${String(h['x-sluice-reason'])}`;
  if (body.account !== account) return `account ${body.account}`;
  if (typeof body.error !== 'string' || body.error === '') return 'no error text';
  if (!Number.isInteger(body.retry_after_ms) || body.retry_after_ms < 0) return `retry_after_ms ${body.retry_after_ms}`;
  if (!/^[1-9]\d*$/.test(String(h['retry-after']))) return `Retry-After ${String(h['retry-after'])}`;
  if (h['ratelimit-policy'] !== policy) return `RateLimit-Policy ${String(h['ratelimit-policy'])}`;
  const p = policy.split(';')[0];
  if (!new RegExp(`^${p};r=0;t=[1-9]\\d*$`).test(String(h.ratelimit))) return `RateLimit ${String(h.ratelimit)}`;
  return null;
}

/** Collects answers of a load by status, and the first few answers breaking the 429 contract. */
function checker(reason: string, policy: string, account: string) {
  const problems: string[] = [];
  let admitted = 0;
  let rejected = 0;
  return {
    problems,
    get admitted() {
      return admitted;
    },
    get rejected() {
      return rejected;
    },
    onAnswer(answer: Answer): void {
      if (answer.status === 200) admitted++;
      else rejected++;
      const problem = problemWith(answer, reason, policy, account);
      if (problem !== null && problems.length < 5) problems.push(problem);
    },
  };
}

/**
 * Admitted within ±tolerance (a fraction) of rate × seconds + burst + 1 over the run. Never above;
 * below only by what the bucket could not use: pauses of the load longer than the burst covers
 * (see starvedMs), which the machine's other work may cause. Answers the starved ms.
 */
function assertRate(admitted: number, perSecond: number, tally: LoadTally, burst: number, tolerance: number, what: string): number {
  const spanMs = tally.spanMs;
  const starved = starvedMs(tally, ((burst + 1) * 1000) / perSecond);
  const expected = (perSecond * spanMs) / 1000 + burst + 1;
  const slack = tolerance * ((perSecond * spanMs) / 1000) + 1;
  const unusable = (perSecond * starved) / 1000;
  assert.ok(
    admitted <= expected + slack && admitted >= expected - unusable - slack,
    `${what}: admitted ${admitted}, expected ${expected.toFixed(1)} ± ${slack.toFixed(1)} over ${spanMs.toFixed(0)} ms` +
      (starved > 0 ? ` (less up to ${unusable.toFixed(1)} for ${starved.toFixed(0)} ms of stalls)` : ''),
  );
  return starved;
}

describe('caller identification and registration on the shipped rules (whole process)', () => {
  let stack: Stack;
  const readCallers = (): Promise<string> => readFile(join(stack.dir, 'callers.yaml'), 'utf8');

  before(async () => {
    // The shipped rules directory, its clusters pointed at the stand-ins.
    stack = await startStack(
      async (ports: ClusterPorts) => {
        const files: Record<string, string> = {};
        for (const name of await readdir(SHIPPED_RULES)) {
          files[name] = (await readFile(join(SHIPPED_RULES, name), 'utf8'))
            .replaceAll('http://127.0.0.1:8081', `http://127.0.0.1:${ports.primary}`)
            .replaceAll('http://127.0.0.1:8082', `http://127.0.0.1:${ports.marketing}`)
            .replaceAll('http://127.0.0.1:8083', `http://127.0.0.1:${ports.backup}`);
        }
        assert.ok(files['sluice.yaml'].includes(`127.0.0.1:${ports.primary}`), 'the copy points at the stand-in primary');
        return files;
      },
      { prefix: 'sluice-shipped-' },
    );
  });

  after(async () => {
    await stack?.close();
  });

  it('admits the right key, refuses a wrong or missing key with 401 bad_key', async () => {
    const ok = await send(stack.sidecar.url, '/members/42', as('order-center', 'demo-key-order-center'));
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { cluster: 'primary', url: '/members/42' });
    const reached = stack.primary.received.length;
    for (const headers of [as('order-center', 'demo-key-booking-app'), as('order-center', ''), as('order-center')]) {
      const res = await send(stack.sidecar.url, '/members/42', headers);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-sluice-reason'), 'bad_key');
      assert.equal((JSON.parse(res.body) as RejectionBody).reason, 'bad_key');
    }
    assert.equal(stack.primary.received.length, reached, 'no refused call reached the upstream');
  });

  it('refuses a missing or unregistered account with 401 unknown_caller', async () => {
    for (const headers of [{}, as('nobody', 'demo-key-nobody')]) {
      const res = await send(stack.sidecar.url, '/members/1', headers);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-sluice-reason'), 'unknown_caller');
      assert.equal((JSON.parse(res.body) as RejectionBody).reason, 'unknown_caller');
    }
  });

  it('`sluice accounts register` on the running rules: the printed secret works within about 1 s', async () => {
    const refused = await send(stack.sidecar.url, '/members/7', as('loyalty-app', 'anything'));
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('x-sluice-reason'), 'unknown_caller');

    const { stdout } = await run(process.execPath, [
      SLUICE_BIN, 'accounts', 'register',
      '--id', 'loyalty-app', '--owner', 'Sun Lei', '--team', 'loyalty', '--scenario', 'Show the points balance in the app',
      '--class', 'order', '--quota', '100/s', '--routes', 'GET /members/*', '--rules', stack.dir,
    ]);
    const registeredAt = performance.now();
    const secret = stdout.trim().split('\n').pop() ?? '';
    assert.match(secret, /^[A-Za-z0-9_-]{20,}$/, `a secret on the last line of: ${stdout}`);

    const res = await waitFor(
      async () => {
        const answer = await send(stack.sidecar.url, '/members/7', as('loyalty-app', secret));
        return answer.status === 200 ? answer : null;
      },
      { timeoutMs: 5000, intervalMs: 20, message: 'the new account to be admitted' },
    );
    const tookMs = performance.now() - registeredAt;
    console.log(`registered account admitted ${tookMs.toFixed(0)} ms after \`sluice accounts register\` returned`);
    assert.ok(tookMs < 1500, `took ${tookMs.toFixed(0)} ms`);
    assert.deepEqual(JSON.parse(res.body), { cluster: 'primary', url: '/members/7' });

    const wrong = await send(stack.sidecar.url, '/members/7', as('loyalty-app', 'demo-key-loyalty-app'));
    assert.equal(wrong.headers.get('x-sluice-reason'), 'bad_key');
    const callers = await readCallers();
    assert.ok(callers.includes(createHash('sha256').update(secret).digest('hex')), 'the hash is stored');
    assert.ok(!callers.includes(secret), 'the secret is not');
    assert.ok(callers.includes('# DEMO ONLY'), 'comments are kept');
    const view = await adminJson<{ registered: boolean; owner: string; class: string; quota: string }>(stack.sidecar, '/admin/accounts/loyalty-app');
    assert.deepEqual([view.registered, view.owner, view.class, view.quota], [true, 'Sun Lei', 'order', '100/s']);
  });

  it('with `unknown: order` and unknown_quota, unknown callers share the quota of the unknown account', async () => {
    const callers = await readCallers();
    assert.match(callers, /^  unknown: reject\b.*$/m);
    await stack.reload(callers.replace(/^  unknown: reject\b.*$/m, '  unknown: order\n  unknown_quota: 5/s'), 'callers.yaml');

    const first = await send(stack.sidecar.url, '/members/3', as('nobody'));
    assert.equal(first.status, 200);
    assert.deepEqual(JSON.parse(first.body), { cluster: 'primary', url: '/members/3' });
    // A registered account with a wrong key is still refused, not demoted to unknown.
    const wrong = await send(stack.sidecar.url, '/members/3', as('order-center', 'wrong'));
    assert.equal(wrong.headers.get('x-sluice-reason'), 'bad_key');

    // 5/s shared by every unknown caller: ten at once get 429 account_quota as 'unknown'.
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => send(stack.sidecar.url, '/members/3', i % 2 === 0 ? {} : as(`stranger-${i}`))),
    );
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.every((s) => s === 200 || s === 429), `statuses ${statuses.join(',')}`);
    assert.ok(statuses.filter((s) => s === 200).length <= 3, `statuses ${statuses.join(',')}`);
    const limited = answers.find((a) => a.status === 429);
    assert.ok(limited !== undefined, 'some were limited');
    const body = JSON.parse(limited.body) as RejectionBody;
    assert.deepEqual([body.reason, body.account], ['account_quota', 'unknown']);
    assert.equal(limited.headers.get('ratelimit-policy'), '"account";q=5;w=1');

    const unknown = await adminJson<{ registered: boolean; class: string; quota: string; usage: { requests_total: number } }>(
      stack.sidecar,
      '/admin/accounts/unknown',
    );
    assert.deepEqual([unknown.registered, unknown.class, unknown.quota], [false, 'order', '5/s']);
    assert.ok(unknown.usage.requests_total >= 11);
  });
});

// Arrivals reach a limiter in event-loop batches, and on a shared two-core machine a process can
// be held off the CPU for tens, at times hundreds, of ms. A bucket cannot make up for a pause
// longer than its burst covers without breaking its own bound (rate × t + burst + 1 for every
// span), so the saturating runs give each bucket a burst of a few hundred ms of its rate (the
// expected counts include it), and assertRate discounts only pauses longer than that.
const LOOPER_BURST = 50;

describe('account quota (whole process)', () => {
  let stack: Stack;
  /** `batchBurst` null: the batch account takes the default burst of its quota. */
  const callers = (batchQuota: string, extra = '', batchBurst: number | null = 4): string => `callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: looper, owner: Zhao Lei, team: growth, scenario: Campaign page calling in a loop, class: order, quota: 200/s, burst: ${LOOPER_BURST} }
    - { id: batch, owner: Qian Yu, team: reports, scenario: Nightly member export, class: order, quota: ${batchQuota}${batchBurst === null ? '' : `, burst: ${batchBurst}`} }
${extra}`;

  before(async () => {
    stack = await startStack((ports) => clusterSections(ports) + callers('6/min'), { prefix: 'sluice-quota-' });
  });

  after(async () => {
    await stack?.close();
  });

  it('200/s over a 3 s saturating run admits 600 ± 3% plus the burst, and every rejection carries the full 429 answer', async () => {
    const check = checker('account_quota', '"account";q=200;w=1', 'looper');
    const tally = await runLoad(stack.sidecar.url, {
      connections: 12,
      durationMs: 3000,
      request: { path: '/members/1', headers: as('looper') },
      onAnswer: check.onAnswer,
    });
    const offered = (tally.sent / tally.spanMs) * 1000;
    console.log(
      `account quota 200/s burst ${LOOPER_BURST}: ${check.admitted} admitted, ${check.rejected} rejected over ${tally.spanMs.toFixed(0)} ms ` +
        `(offered ${offered.toFixed(0)}/s, stalls beyond the burst ${starvedMs(tally, ((LOOPER_BURST + 1) * 1000) / 200).toFixed(0)} ms)`,
    );
    assert.deepEqual(tally.failures, []);
    assert.deepEqual(check.problems, []);
    assert.ok(offered > 400, `the run must saturate the quota: offered only ${offered.toFixed(0)}/s`);
    // 200/s × 3 s = 600 ± 3%, plus the burst.
    assertRate(check.admitted, 200, tally, LOOPER_BURST, 0.03, 'looper');
    assert.equal(stack.primary.received.length, check.admitted, 'only admitted requests reached the upstream');
  });

  it('an unchanged quota keeps its counter across a reload; a changed rate applies at once', async () => {
    const first = [];
    for (let i = 0; i < 6; i++) first.push((await send(stack.sidecar.url, '/members/2', as('batch'))).status);
    // burst 4: five at once, then one per 10 s.
    assert.deepEqual(first, [200, 200, 200, 200, 200, 429]);

    // Another part of the rules changes: a new account.
    const reloadMs = await stack.reload(
      clusterSections(stack.ports) +
        callers('6/min', '    - { id: newcomer, owner: Li Na, team: search, scenario: Member search page, class: order }\n'),
    );
    assert.equal((await send(stack.sidecar.url, '/members/2', as('newcomer'))).status, 200, 'the new rules are in force');
    const still = await send(stack.sidecar.url, '/members/2', as('batch'));
    assert.equal(still.status, 429, `still limited after a reload of ${reloadMs.toFixed(0)} ms`);
    assert.ok((JSON.parse(still.body) as RejectionBody).retry_after_ms > 1000);

    // 600/s with its default burst (60): twenty back to back pass however fast they come.
    await stack.reload(clusterSections(stack.ports) + callers('600/s', '', null));
    const after = [];
    for (let i = 0; i < 20; i++) after.push((await send(stack.sidecar.url, '/members/2', as('batch'))).status);
    assert.deepEqual(after, Array(20).fill(200), 'the new rate applies at once');
  });
});

const HOT_BURST = 20;

describe('hot keys (whole process)', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(
      (ports) => `${clusterSections(ports)}callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: scraper, owner: Zhou Bo, team: risk, scenario: Member lookups, class: order }
limits:
  hot_keys:
    - name: member-id
      key: path:/members/{id}
      rate: 50/s
      burst: ${HOT_BURST}
      overrides: { "10086": 200/s }
`,
      { prefix: 'sluice-hotkey-' },
    );
    // A cold sidecar on a slow machine forwards ~60 requests/s for its first few hundred ms and
    // speeds up over seconds as it compiles: the measured loads would start under the override's
    // rate. Two seconds of other ids warm it.
    const warm = await runLoad(stack.sidecar.url, {
      connections: 8,
      durationMs: 2000,
      request: (i) => ({ path: `/members/${2000 + (i % 50)}`, headers: as('scraper') }),
    });
    assert.deepEqual(warm.failures, []);
  });

  after(async () => {
    await stack?.close();
  });

  it('holds a hot member id to its rate while other ids pass; an override gets its own rate', async () => {
    const hot = checker('hot_key', '"hot_key";q=50;w=1', 'scraper');
    const special = checker('hot_key', '"hot_key";q=200;w=1', 'scraper');
    const others = { statuses: new Map<number, number>() };
    const options = { durationMs: 2000, maxRequests: 20_000 };
    const [hotTally, specialTally, otherTally] = await Promise.all([
      runLoad(stack.sidecar.url, { ...options, connections: 3, request: { path: '/members/4242', headers: as('scraper') }, onAnswer: hot.onAnswer }),
      // Six connections: over 200/s even where a round trip takes ~20 ms (three offered ~170/s).
      runLoad(stack.sidecar.url, { ...options, connections: 6, request: { path: '/members/10086', headers: as('scraper') }, onAnswer: special.onAnswer }),
      // 20 other ids at 100/s in all: 5/s each, well under 50/s.
      runLoad(stack.sidecar.url, {
        ...options,
        connections: 2,
        ratePerSecond: 100,
        request: (i) => ({ path: `/members/${1000 + (i % 20)}`, headers: as('scraper') }),
        onAnswer: (a) => others.statuses.set(a.status, (others.statuses.get(a.status) ?? 0) + 1),
      }),
    ]);
    console.log(
      `hot key: id 4242 ${hot.admitted} admitted / ${hot.rejected} rejected in ${hotTally.spanMs.toFixed(0)} ms; ` +
        `override 10086 ${special.admitted} / ${special.rejected} in ${specialTally.spanMs.toFixed(0)} ms; ` +
        `other ids ${JSON.stringify(Object.fromEntries(others.statuses))}`,
    );
    for (const t of [hotTally, specialTally, otherTally]) assert.deepEqual(t.failures, []);
    assert.deepEqual(hot.problems, []);
    assert.deepEqual(special.problems, []);
    assert.deepEqual([...others.statuses.keys()], [200], 'other ids are never throttled');
    assert.ok(otherTally.sent >= 100, `other ids sent ${otherTally.sent}`);
    // Over its rate throughout, not only at moments: a fifth of the override's answers refused.
    assert.ok(hot.rejected > hot.admitted && special.rejected * 4 >= special.admitted, 'both hot ids were driven over their rates');
    assertRate(hot.admitted, 50, hotTally, HOT_BURST, 0.05, 'member 4242 at 50/s');
    assertRate(special.admitted, 200, specialTally, HOT_BURST, 0.05, 'member 10086 at its override 200/s');
  });
});

describe('global cap and class ceilings (whole process)', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack(
      (ports) => `${clusterSections(ports, { marketingShare: 0.25 })}callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Member profile at order creation, class: order }
    - { id: campaign, owner: Chen Jing, team: growth-marketing, scenario: Flash-sale member lookups, class: marketing }
limits:
  global: { rate: 400/s, scope: instance }
`,
      { prefix: 'sluice-global-' },
    );
  });

  after(async () => {
    await stack?.close();
  });

  it('holds a marketing flood to its 25% (100/s) while paced order traffic under the cap is never refused', async () => {
    const flood = checker('global_cap', '"global";q=100;w=1', 'campaign');
    const orderStatuses = new Map<number, number>();
    const options = { durationMs: 3000, maxRequests: 30_000 };
    const floodLoad = startLoad(stack.sidecar.url, {
      ...options,
      connections: 4,
      request: { path: '/members/search', headers: as('campaign') },
      onAnswer: flood.onAnswer,
    });
    // Order flow at 150/s, never more than two requests in flight: no batch larger than the cap's tolerance.
    const orderLoad = startLoad(stack.sidecar.url, {
      ...options,
      connections: 2,
      ratePerSecond: 150,
      request: (i) => ({ path: `/members/${i % 500}`, headers: as('order-center') }),
      onAnswer: (a) => orderStatuses.set(a.status, (orderStatuses.get(a.status) ?? 0) + 1),
    });
    let share: number;
    let floodTally: LoadTally;
    let orderTally: LoadTally;
    try {
      // The share gauge, sampled while both run: marketing uses about a quarter of the cap.
      share = await waitFor(
        async () => {
          const value = metricValue(await metricsText(stack.sidecar), 'sluice_global_admitted_ratio', { class: 'marketing' });
          return value !== null && value >= 0.2 ? value : null;
        },
        { timeoutMs: 2900, intervalMs: 100, message: 'the marketing share gauge' },
      );
    } finally {
      [floodTally, orderTally] = await Promise.all([floodLoad.done, orderLoad.done]);
    }
    const orderRate = (orderTally.sent / orderTally.spanMs) * 1000;
    const floodRate = (floodTally.sent / floodTally.spanMs) * 1000;
    console.log(
      `global cap 400/s, marketing max_share 0.25: marketing ${flood.admitted} admitted / ${flood.rejected} rejected over ` +
        `${floodTally.spanMs.toFixed(0)} ms (offered ${floodRate.toFixed(0)}/s, share gauge ${share}); ` +
        `order ${JSON.stringify(Object.fromEntries(orderStatuses))} at ${orderRate.toFixed(0)}/s`,
    );
    assert.deepEqual(floodTally.failures, []);
    assert.deepEqual(orderTally.failures, []);
    assert.deepEqual([...orderStatuses.keys()], [200], 'not one order request refused');
    assert.ok(orderRate >= 100, `order traffic ran at only ${orderRate.toFixed(0)}/s`);
    assert.ok(floodRate > 200, `the flood must exceed marketing's ceiling: offered ${floodRate.toFixed(0)}/s`);
    assert.deepEqual(flood.problems, []);
    // Held to the ceiling: 100/s × t plus the class bucket's default burst (a tenth of a second) + 1.
    assertRate(flood.admitted, 100, floodTally, defaultBurst(100), 0.05, 'marketing at 25% of 400/s');
    assert.ok(share <= 0.3, `marketing share ${share}`);
    assert.ok(
      stack.primary.received.every((r) => r.headers['x-caller-account'] === 'order-center'),
      'marketing never reaches primary',
    );
  });
});

describe('route scenarios and account usage (whole process)', () => {
  let stack: Stack;
  const rules = (ports: ClusterPorts, enforce: boolean): string => `${clusterSections(ports)}callers:
  auth: trust
  unknown: reject
  enforce_routes: ${enforce}
  accounts:
    - id: order-center
      owner: Li Wei
      team: order-platform
      scenario: Load member profile and level while creating an order
      class: order
      routes: [GET /members/*, GET /members/*/level]
`;

  before(async () => {
    stack = await startStack((ports) => rules(ports, true), { prefix: 'sluice-routes-' });
  });

  after(async () => {
    await stack?.close();
  });

  it('refuses calls outside the routes with 403 route_not_allowed when enforce_routes is true', async () => {
    assert.equal((await send(stack.sidecar.url, '/members/1', as('order-center'))).status, 200);
    assert.equal((await send(stack.sidecar.url, '/members/1/level', as('order-center'))).status, 200);
    for (const [method, path] of [['GET', '/orders/9'], ['POST', '/members/1']]) {
      const res = await send(stack.sidecar.url, path, as('order-center'), method);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.headers.get('x-sluice-reason'), 'route_not_allowed');
      const body = JSON.parse(res.body) as RejectionBody;
      assert.deepEqual([body.reason, body.account], ['route_not_allowed', 'order-center']);
    }
    assert.ok(!stack.primary.received.some((r) => r.url === '/orders/9'), 'refused calls never reach the upstream');
  });

  it('with enforce_routes false admits off-scenario calls, counts them, and shows the usage', async () => {
    await stack.reload(rules(stack.ports, false));
    for (const [method, path] of [['GET', '/orders/9'], ['GET', '/orders/10'], ['DELETE', '/members/1']]) {
      const res = await send(stack.sidecar.url, path, as('order-center'), method);
      assert.equal(res.status, 200, `${method} ${path}`);
    }
    assert.ok(stack.primary.received.some((r) => r.url === '/orders/9'));

    // Two refused in the last test plus three admitted now: all off-scenario.
    const account = await adminJson<{
      id: string;
      registered: boolean;
      owner: string;
      team: string;
      scenario: string;
      routes: string[];
      usage: {
        requests_total: number;
        last_seen: string | null;
        rejections: Record<string, number>;
        routes_called: { name: string; count: number }[];
        sources: { name: string; count: number }[];
        off_scenario: number;
      };
    }>(stack.sidecar, '/admin/accounts/order-center');
    assert.equal(account.usage.off_scenario, 5);
    assert.equal(account.usage.requests_total, 7);
    assert.deepEqual(account.usage.rejections, { route_not_allowed: 2 });
    assert.deepEqual([account.registered, account.owner, account.team], [true, 'Li Wei', 'order-platform']);
    assert.deepEqual(account.routes, ['GET /members/*', 'GET /members/*/level']);
    const lastSeenAgo = Date.now() - Date.parse(account.usage.last_seen ?? '');
    assert.ok(lastSeenAgo >= 0 && lastSeenAgo < 10_000, `last seen ${account.usage.last_seen}`);
    const routes = Object.fromEntries(account.usage.routes_called.map((r) => [r.name, r.count]));
    assert.equal(routes['GET /members/*'], 1);
    assert.equal(routes['GET /members/*/level'], 1);
    assert.equal(routes['GET /orders/*'], 3);
    assert.deepEqual(account.usage.sources, [{ name: '127.0.0.1', count: 7 }]);

    // The list shows the same usage for every account.
    const list = await adminJson<{ accounts: (typeof account)[] }>(stack.sidecar, '/admin/accounts');
    assert.deepEqual(list.accounts.map((a) => a.id), ['order-center']);
    const listed = list.accounts[0].usage;
    assert.deepEqual(
      [listed.requests_total, listed.rejections, listed.off_scenario, listed.sources],
      [7, { route_not_allowed: 2 }, 5, [{ name: '127.0.0.1', count: 7 }]],
    );
    // Rendered from the monotonic clock at each call: equal to within a few ms.
    assert.ok(Math.abs(Date.parse(listed.last_seen ?? '') - Date.parse(account.usage.last_seen ?? '')) < 50);

    const metrics = await metricsText(stack.sidecar);
    assert.equal(metricValue(metrics, 'sluice_off_scenario_requests_total', { account: 'order-center' }), 5);
    assert.equal(metricValue(metrics, 'sluice_rejections_total', { account: 'order-center', reason: 'route_not_allowed' }), 2);
  });
});
