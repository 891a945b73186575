// Whole-process proof of the shipped observability: a real Prometheus scrapes a real sluice
// sidecar's admin /metrics while mixed traffic runs (order and marketing callers, a caller over
// its quota, a hot member id, unknown callers, a flood of distinct member ids, calls outside an
// account's routes, a shadow rule, a failing cluster whose breaker opens, a refused reload).
// Every dashboard query and every alert expression is evaluated through Prometheus's HTTP API and
// must return data; the live exposition passes `promtool check metrics`, carries every SPEC §6
// metric, and no label value is a member id, an unregistered account name or a raw path.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { REASONS } from '../../src/reasons.ts';
import { alertRules, dashboardQueries, promtool, substituteVariables, variableQueries } from '../dashboards/artifacts.ts';
import { metricsText, metricValue } from '../helpers/admin.ts';
import { isSeries, startPrometheus, type PrometheusServer, type QueryResult } from '../helpers/prometheus.ts';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { clusterSections, startFakeCluster, type FakeCluster } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SPEC_METRICS = [
  'sluice_requests_total',
  'sluice_rejections_total',
  'sluice_upstream_duration_seconds',
  'sluice_overhead_seconds',
  'sluice_breaker_state',
  'sluice_hot_keys_tracked',
  'sluice_off_scenario_requests_total',
  'sluice_rules_reloads_total',
  'sluice_rules_info',
  'sluice_store_up',
  'sluice_global_admitted_ratio',
  'sluice_shadow_rejections_total',
  'sluice_split_requests_total',
  'sluice_mirror_requests_total',
  'sluice_adaptive_limit',
  'sluice_adaptive_inflight',
  'sluice_adaptive_min_rtt_seconds',
  'sluice_endpoint_healthy',
  'sluice_faults_injected_total',
  'sluice_account_identities',
] as const;

const ACCOUNTS = ['order-center', 'booking-app', 'campaign'];
const HOT_ID = '31337';

/**
 * Rules giving every metric samples: a 200/s global cap the flood overruns (order shed), a hot-key
 * rule per member id, a shadow hot-key rule per client address (all traffic comes from one), a
 * marketing account with a small quota and routes, an order account with routes, a degrade
 * rule that stays open for the whole test once the failing primary trips it, a sticky split of
 * the order class, a mirror of the marketing cluster (whose copies all differ), and (adaptive.yaml)
 * an adaptive limit pinned at 2 on backup, where order traffic fails over: its concurrent flood
 * is shed as overloaded and the limit sits at min_limit; later the same rule in shadow mode; and
 * a chaos drill aborting the requests that carry its header.
 */
function rules(ports: { primary: number; marketing: number; backup: number }): string {
  const sections = clusterSections(ports).replace(
    '{ cluster: primary, failover: backup }',
    '{ cluster: primary, failover: backup, split: { to: backup, percent: 10, sticky: "path:/members/{id}" } }',
  );
  return `${sections}callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Load member profile while creating an order, class: order, routes: [GET /members/*, GET /members/*/level] }
    - { id: booking-app, owner: Zhang Min, team: hotel-booking, scenario: Member price at checkout, class: order }
    - { id: campaign, owner: Chen Jing, team: growth, scenario: Flash-sale member lookup, class: marketing, quota: 5/s, routes: [GET /members/*] }
limits:
  global: { rate: 200/s, scope: instance }
  hot_keys:
    - { name: member-id, key: "path:/members/{id}", rate: 20/s, track: 10000 }
    - { name: client-ip, key: ip, rate: 50/s, shadow: true }
degrade:
  - { name: primary-errors, cluster: primary, kind: error_ratio, threshold: 0.5, window: 1s, min_requests: 5, open_for: 2m, action: failover }
  - { name: marketing-slow, cluster: marketing, kind: rt, threshold: 500ms, window: 1s, min_requests: 20, open_for: 10s, action: reject }
mirrors:
  - { name: backup-check, from: marketing, to: backup }
faults:
  - { name: header-drill, header: "x-sluice-drill: on", abort: 503, abort_percent: 100 }
`;
}

/** adaptive.yaml: the adaptive limit on backup, enforcing or in shadow mode. */
function adaptiveRules(shadow: boolean): string {
  return `limits:\n  adaptive:\n    - { cluster: backup, initial_limit: 2, min_limit: 2, max_limit: 2, shadow: ${shadow} }\n`;
}

interface Traffic {
  /** Member ids and unregistered account names sent: none may ever appear in the exposition. */
  readonly secrets: Set<string>;
  readonly statuses: Map<number, number>;
  readonly failures: string[];
  readonly rounds: number;
  stop(): Promise<void>;
}

/** Rounds of mixed traffic every ~250 ms until stopped or `limitMs` passes. */
function mixedTraffic(url: string, limitMs: number): Traffic {
  const pool = new Pool(url, { connections: 16, headersTimeout: 5000, bodyTimeout: 5000 });
  const secrets = new Set<string>();
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  const deadline = Date.now() + limitMs;
  let running = true;
  let rounds = 0;
  let stopped: Promise<void> | null = null;

  const call = async (method: string, path: string, account: string | null, extra: Record<string, string> = {}): Promise<void> => {
    try {
      const res = await pool.request({ method, path, headers: account === null ? extra : { 'x-caller-account': account, ...extra } });
      await res.body.dump();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    } catch (error) {
      failures.push(`${method} ${path}: ${String(error)}`);
    }
  };
  const fresh = (prefix: string): string => {
    const value = `${prefix}${randomBytes(5).toString('hex')}`;
    secrets.add(value);
    return value;
  };
  const small = (): number => 1 + Math.floor(Math.random() * 50);

  const round = async (): Promise<void> => {
    for (let i = 0; i < 4; i++) await call('GET', `/members/${small()}`, 'order-center');
    await call('GET', `/members/${small()}/level`, 'order-center');
    // Off-scenario: order-center registered only GET /members/* and GET /members/*/level.
    await call('POST', `/members/${small()}/points`, 'order-center');
    await call('GET', `/members/${small()}/orders?page=2`, 'order-center');
    for (let i = 0; i < 3; i++) await call('GET', `/members/${small()}`, 'booking-app');
    // The campaign loops far above its 5/s quota.
    for (let i = 0; i < 10; i++) await call('GET', `/members/${small()}`, 'campaign');
    await call('GET', `/members/${small()}`, null);
    // A caller in the drill: aborted with the drill's 503 before any upstream.
    await call('GET', `/members/${small()}`, 'booking-app', { 'x-sluice-drill': 'on' });
    await call('GET', `/members/${fresh('zq')}`, fresh('ghost-'));
    // A bot hammering one member id, far above the 20/s per id.
    for (let i = 0; i < 12; i++) await call('GET', `/members/${HOT_ID}`, 'order-center');
    // A flood of distinct member ids (never seen twice), concurrent: overruns the global cap.
    const flood = Array.from({ length: 40 }, () => `/members/${fresh('zq')}?ref=${fresh('zq')}`);
    await Promise.all(
      Array.from({ length: 10 }, async (_, worker) => {
        for (let i = worker; i < flood.length; i += 10) await call('GET', flood[i], 'booking-app');
      }),
    );
  };

  const loop = (async () => {
    while (running && Date.now() < deadline) {
      const started = Date.now();
      await round();
      rounds++;
      const rest = 250 - (Date.now() - started);
      if (rest > 0 && running) await delay(rest);
    }
  })();

  return {
    secrets,
    statuses,
    failures,
    get rounds() {
      return rounds;
    },
    stop() {
      running = false;
      stopped ??= loop.then(() => pool.close());
      return stopped;
    },
  };
}

function finite(result: QueryResult): boolean {
  if (!isSeries(result)) return Number.isFinite(Number(result.result[1]));
  return result.result.some((s) => Number.isFinite(Number(s.value?.[1] ?? s.values?.at(-1)?.[1])));
}

/** Numbers of an instant vector. */
function values(result: QueryResult): number[] {
  return isSeries(result) ? result.result.map((s) => Number(s.value?.[1])) : [Number(result.result[1])];
}

/**
 * The expression without its top-level comparison against a literal threshold (`> 0`, `== 0`,
 * `> 0.002`, `> 1 unless ...`): what the alert compares, which answers even while it is quiet.
 * A comparison between two expressions (`a <= 3 * b`) stays.
 */
function withoutThreshold(expr: string): string {
  return expr.replace(/\s*(?:==|!=|>=|<=|>|<)\s*-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?=\s*(?:$|\bunless\b|\band\b|\bor\b))/g, '');
}

/** Alerts whose condition the traffic makes true: the full expression must answer. */
const FIRING = new Set(['SluiceBreakerOpenLong', 'SluiceRulesReloadFailing', 'SluiceOrderClassShed', 'SluiceAdaptiveLimitAtMin']);

/** Every label value a sluice_* series may carry: bounded sets from the rules and the code. */
function allowedLabel(name: string, value: string): boolean {
  switch (name) {
    case 'account':
      return [...ACCOUNTS, 'unknown'].includes(value);
    case 'class':
      return ['order', 'marketing', 'none'].includes(value);
    case 'cluster':
      return ['primary', 'marketing', 'backup', 'none'].includes(value);
    case 'code':
      return /^[1-5]\d\d$/.test(value);
    case 'reason':
      return Object.hasOwn(REASONS, value);
    case 'breaker':
      return ['primary-errors', 'marketing-slow'].includes(value);
    case 'rule':
      return ['member-id', 'client-ip'].includes(value);
    case 'result':
      return ['success', 'failure', 'match', 'mismatch', 'error', 'dropped', 'sent', 'budget_exhausted'].includes(value);
    case 'fault':
      return value === 'header-drill';
    case 'kind':
      return ['delay', 'abort'].includes(value);
    case 'endpoint':
      // The rules' own endpoint URLs: loopback stand-ins here.
      return /^http:\/\/127\.0\.0\.1:\d+$/.test(value);
    case 'mirror':
      return value === 'backup-check';
    case 'version':
      return /^[0-9a-f]{12}$/.test(value);
    case 'le':
      return value === '+Inf' || Number.isFinite(Number(value));
    default:
      return false;
  }
}

test('a real Prometheus scraping a real sidecar answers every dashboard query and alert expression', { timeout: 90_000 }, async (t) => {
  const clusters: FakeCluster[] = [];
  let dir = '';
  let sidecar: SidecarProcess | null = null;
  let prometheus: PrometheusServer | null = null;
  let traffic: Traffic | null = null;
  t.after(async () => {
    // Each step runs whatever the others did, so no process outlives the test.
    await traffic?.stop().catch(() => {});
    await Promise.allSettled([prometheus?.stop(), sidecar?.stop()]);
    await Promise.allSettled(clusters.map((c) => c.close()));
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  const [primary, marketing, backup] = await Promise.all([
    startFakeCluster('primary'),
    startFakeCluster('marketing'),
    startFakeCluster('backup'),
  ]);
  clusters.push(primary, marketing, backup);
  dir = await mkdtemp(join(tmpdir(), 'sluice-prometheus-e2e-'));
  await writeFile(join(dir, 'rules.yaml'), rules({ primary: primary.port, marketing: marketing.port, backup: backup.port }));
  await writeFile(join(dir, 'adaptive.yaml'), adaptiveRules(false));
  const side = (sidecar = await startSidecar(dir, { env: { SLUICE_ACCESS_LOG_SAMPLE: '' } }));
  const prom = (prometheus = await startPrometheus({ targets: [`127.0.0.1:${side.adminPort}`] }));

  // Every expression parses, before any data exists.
  const dashboard = dashboardQueries().map((q) => ({ source: q.source, expr: substituteVariables(q.expr) }));
  const alerts = alertRules().map((rule) => ({ name: rule.alert ?? rule.record ?? '?', expr: rule.expr, bare: withoutThreshold(rule.expr) }));
  assert.ok(dashboard.length >= 20, `only ${dashboard.length} dashboard queries`);
  assert.ok(alerts.length >= 6, `only ${alerts.length} alerts`);
  for (const { source, expr } of dashboard) await assert.doesNotReject(prom.query(expr), `${source} is not valid PromQL`);
  for (const alert of alerts) {
    await assert.doesNotReject(prom.query(alert.expr), `alert ${alert.name} is not valid PromQL`);
    if (!FIRING.has(alert.name)) {
      assert.notEqual(alert.bare, alert.expr, `alert ${alert.name}: no threshold found to take off`);
      await assert.doesNotReject(prom.query(alert.bare), `alert ${alert.name} without its threshold: ${alert.bare}`);
    }
  }

  // The first scrape sees the reload-failure counter at 0, so a later failure is an increase.
  await waitFor(async () => values(await prom.query(`sluice_rules_reloads_total{job="sluice",result="failure"}`))[0] === 0, {
    timeoutMs: 20_000,
    intervalMs: 100,
    message: 'the sidecar to be scraped',
  });

  const load = (traffic = mixedTraffic(side.url, 50_000));
  const sample = async (name: string, labels: Record<string, string>): Promise<number | null> =>
    metricValue(await metricsText(side), name, labels);

  // The primary fails: its breaker opens (and stays open for the test: open_for 2m), order
  // traffic fails over to backup; then the primary heals.
  primary.status = 500;
  try {
    await waitFor(async () => (await sample('sluice_breaker_state', { breaker: 'primary-errors' })) === 1, {
      timeoutMs: 10_000,
      intervalMs: 50,
      message: 'the primary-errors breaker to open',
    });
  } finally {
    primary.status = 200;
  }

  // A broken rules file is refused (counted as a failure), then removed: the rules load again.
  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, 'limits:\n  global: { rate: fast }\n');
  try {
    await waitFor(async () => (await sample('sluice_rules_reloads_total', { result: 'failure' })) === 1, {
      timeoutMs: 5000,
      message: 'the broken rules to be refused',
    });
  } finally {
    await rm(broken, { force: true });
  }
  await waitFor(async () => (await sample('sluice_rules_reloads_total', { result: 'success' })) === 2, {
    timeoutMs: 5000,
    message: 'the rules to load again',
  });
  // The order flood on backup is shed by the adaptive limit; then the rule goes to shadow mode
  // (its learned state kept) and only counts what it would refuse.
  await waitFor(async () => ((await sample('sluice_rejections_total', { account: 'booking-app', reason: 'overloaded' })) ?? 0) > 0, {
    timeoutMs: 10_000,
    message: 'the adaptive limit on backup to shed',
  });
  const aside = join(dir, '.adaptive.yaml.next');
  await writeFile(aside, adaptiveRules(true));
  await rename(aside, join(dir, 'adaptive.yaml'));
  await waitFor(async () => (await sample('sluice_rules_reloads_total', { result: 'success' })) === 3, {
    timeoutMs: 5000,
    message: 'the shadow adaptive rule to load',
  });
  await waitFor(async () => ((await sample('sluice_shadow_rejections_total', { account: 'booking-app', reason: 'overloaded' })) ?? 0) > 0, {
    timeoutMs: 10_000,
    message: 'the shadow adaptive limit to count',
  });
  // The gauge of distinct member ids held is refreshed every 1024 checks and on reads of
  // /admin/hotkeys; the table forgets ids whose rate interval has passed, so it is read while
  // the flood runs, and its highest value of the last minute is what is checked.
  const trackedIds = 'max_over_time(sluice_hot_keys_tracked{rule="member-id"}[1m]) >= 10';

  let missing: string[] = [];
  await waitFor(
    async () => {
      missing = [];
      await (await fetch(`${side.adminUrl}/admin/hotkeys`)).arrayBuffer();
      if (values(await prom.query(trackedIds)).length === 0) missing.push(trackedIds);
      for (const { source, expr } of dashboard) if (!finite(await prom.query(expr))) missing.push(`${source}: ${expr}`);
      for (const alert of alerts) {
        const expr = FIRING.has(alert.name) ? alert.expr : alert.bare;
        if (!finite(await prom.query(expr))) missing.push(`alert ${alert.name}: ${expr}`);
      }
      return missing.length === 0;
    },
    { timeoutMs: 30_000, intervalMs: 500, message: 'every dashboard query and alert expression to return data' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; still empty:\n  ${missing.join('\n  ')}\n(traffic: ${load.rounds} rounds, statuses ${JSON.stringify([...load.statuses])}, failures ${load.failures.slice(0, 3).join('; ')})`);
  });

  // The quiet alert stays quiet: the memory store is always up.
  const storeDown = alerts.find((a) => a.name === 'SluiceStoreDown');
  assert.ok(storeDown);
  assert.deepEqual(values(await prom.query(storeDown.expr)), []);

  // What the traffic did, as Prometheus saw it.
  assert.deepEqual(values(await prom.query('sluice_breaker_state{breaker="primary-errors",cluster="primary"}')), [1]);
  assert.deepEqual(values(await prom.query('sluice_breaker_state{breaker="marketing-slow",cluster="marketing"}')), [0]);
  assert.ok(values(await prom.query('max_over_time(sluice_global_admitted_ratio{class="order"}[1m])'))[0] > 0, 'order share of the cap');
  for (const [reason, account] of [
    ['unknown_caller', 'unknown'],
    ['account_quota', 'campaign'],
    ['hot_key', 'order-center'],
    ['global_cap', 'booking-app'],
  ]) {
    const found = values(await prom.query(`sluice_rejections_total{reason="${reason}",account="${account}"}`));
    assert.ok(found.length === 1 && found[0] > 0, `${reason} rejections of ${account}`);
  }
  assert.ok(values(await prom.query('sum(sluice_shadow_rejections_total{reason="hot_key"})'))[0] > 0, 'shadow rejections');
  assert.ok(values(await prom.query('sluice_off_scenario_requests_total{account="order-center"}'))[0] > 0, 'off-scenario calls');
  assert.deepEqual(values(await prom.query('sluice_off_scenario_requests_total{account!="order-center"}')), []);
  assert.ok(values(await prom.query('sum(sluice_requests_total{cluster="backup",code="200"})'))[0] > 0, 'failover to backup');
  assert.ok(values(await prom.query('sum(sluice_requests_total{cluster="primary",code="500"})'))[0] > 0, 'primary errors');

  // Grafana's variables fill from label_values(): bounded values, the registered accounts among them.
  for (const variable of variableQueries()) {
    const found = await prom.labelValues(variable.label, substituteVariables(variable.match));
    assert.ok(found.length > 0, `variable ${variable.name}: no ${variable.label} values`);
    for (const value of found) assert.ok(allowedLabel(variable.label, value) || variable.label === 'job' || variable.label === 'instance', `${variable.label}="${value}"`);
  }
  assert.deepEqual(await prom.labelValues('account', 'sluice_requests_total'), ['booking-app', 'campaign', 'order-center', 'unknown']);

  await load.stop();
  assert.ok(load.rounds >= 4, `only ${load.rounds} rounds of traffic`);
  assert.deepEqual(load.failures, [], 'requests failed at the transport level');

  // A live scrape of the sidecar: promtool has nothing to fix, every SPEC §6 metric has samples.
  const exposition = await metricsText(side);
  const run = await promtool(['check', 'metrics'], exposition);
  assert.equal(run.output.trim(), '', `promtool check metrics:\n${run.output}`);
  assert.equal(run.code, 0);
  for (const name of SPEC_METRICS) {
    assert.match(exposition, new RegExp(`^${name}(?:_bucket|_count)?(?:\\{[^}]*\\})? \\S+$`, 'm'), `no sample of ${name}`);
  }

  // No label value is a member id, an unregistered account or a raw path, under the flood.
  let labelled = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith('sluice_')) continue;
    for (const m of line.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labelled++;
      assert.ok(allowedLabel(m[1], m[2]), `unbounded label ${m[1]}="${m[2]}" in: ${line}`);
    }
  }
  assert.ok(labelled > 50, `only ${labelled} sluice label values`);
  assert.ok(load.secrets.size > 150, `only ${load.secrets.size} distinct ids sent`);
  for (const secret of load.secrets) assert.ok(!exposition.includes(secret), `${secret} appears in the exposition`);
  assert.doesNotMatch(exposition, /\/members|ghost-|zq[0-9a-f]/);
  // Nor in anything Prometheus stored.
  const stored = await prom.labelValues('account');
  assert.ok(stored.every((value) => allowedLabel('account', value)), `accounts stored: ${stored.join(', ')}`);
});
