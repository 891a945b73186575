// A real Prometheus scrapes a sluice registry and evaluates every dashboard query, variable and
// alert expression: each one parses, and each one returns data once the metrics have samples.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../../src/metrics.ts';
import { isSeries, startPrometheus, type QueryResult } from '../helpers/prometheus.ts';
import { startHttpServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { alertExpressions, dashboardQueries, substituteVariables, variableQueries, type NamedExpr } from './artifacts.ts';

/**
 * Traffic recorded before each scrape, so counters and histograms keep moving and rate() has
 * something to see. It also puts every alert condition in its firing state (breaker open, store
 * down, reload failures, order shed by the cap, 4 ms overhead, a burst of off-scenario calls, an
 * adaptive limit at min_limit shedding order traffic), so each alert expression must return the
 * series it would alert on. The burst is large because rate() over 5m divides by the whole window
 * while only a few seconds have samples.
 */
function recordTraffic(metrics: Metrics): void {
  metrics.requests.labels('order-center', 'order', 'primary', '200').inc(20);
  metrics.requests.labels('promo', 'marketing', 'marketing', '200').inc(10);
  metrics.requests.labels('order-center', 'order', '', '429').inc(2);
  metrics.rejections.labels('order-center', 'order', 'global_cap').inc(2);
  metrics.rejections.labels('promo', 'marketing', 'account_quota').inc(5);
  metrics.shadowRejections.labels('promo', 'marketing', 'hot_key').inc();
  metrics.upstreamDuration.labels('primary', 'order').observe(0.012);
  metrics.upstreamDuration.labels('primary', 'order').observe(0.03);
  metrics.upstreamDuration.labels('marketing', 'marketing').observe(0.2);
  metrics.overhead.observe(0.004);
  metrics.overhead.observe(0.004);
  metrics.breakerState.labels('primary-slow', 'primary').set(1);
  metrics.hotKeysTracked.labels('member-id').set(17);
  metrics.offScenario.labels('promo').inc(1000);
  metrics.reloads.labels('failure').inc();
  metrics.rulesInfo.labels('3f2a9c1b').set(1);
  metrics.storeUp.set(0);
  metrics.globalAdmittedRatio.labels('order').set(0.55);
  metrics.globalAdmittedRatio.labels('marketing').set(0.3);
  // A shared account (a new identity: no history yet) and an unused one.
  metrics.accountIdentities.readFrom((emit) => {
    emit(2, 'promo');
    emit(0, 'idle');
  });
  metrics.retries.labels('primary', 'sent').inc(3);
  metrics.retries.labels('primary', 'budget_exhausted').inc();
  metrics.faultsInjected.labels('primary-slow-drill', 'delay').inc(5);
  metrics.endpointStates = () => [
    { cluster: 'primary', endpoint: 'http://10.0.0.1:8080', healthy: true },
    { cluster: 'primary', endpoint: 'http://10.0.0.2:8080', healthy: false },
  ];
  metrics.splitRequests.labels('order', 'primary').inc(18);
  metrics.splitRequests.labels('order', 'mysql-new').inc(2);
  metrics.mirrorRequests.labels('mysql-check', 'match').inc(9);
  metrics.mirrorRequests.labels('mysql-check', 'mismatch').inc(1);
  metrics.mirrorRequests.labels('mysql-check', 'dropped').inc(1);
  // An adaptive limit on its floor, shedding the order class too.
  metrics.showAdaptive(new Map([['primary', { limit: 4, inflight: 4, noloadMs: 20, minLimit: 4 }]]));
  metrics.rejections.labels('order-center', 'order', 'overloaded').inc(200);
  metrics.shadowRejections.labels('promo', 'marketing', 'overloaded').inc();
}

function hasFiniteValue(result: QueryResult): boolean {
  if (!isSeries(result)) return true;
  return result.result.some((s) => Number.isFinite(Number(s.value?.[1] ?? s.values?.at(-1)?.[1])));
}

test('prometheus evaluates every dashboard query and alert expression over live sluice metrics', { timeout: 60_000 }, async () => {
  const metrics = new Metrics();
  const target = await startHttpServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    recordTraffic(metrics);
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  const prometheus = await startPrometheus({ targets: [`127.0.0.1:${target.port}`] });
  try {
    const expressions: NamedExpr[] = [
      ...dashboardQueries().map((q) => ({ source: q.source, expr: substituteVariables(q.expr) })),
      ...alertExpressions(),
    ];
    assert.ok(expressions.length >= 25, `only ${expressions.length} expressions`);

    // Parsing does not depend on data: every expression is accepted from the first query on.
    for (const { source, expr } of expressions) {
      await assert.doesNotReject(prometheus.query(expr), `${source} is not valid PromQL`);
    }

    await waitFor(async () => (await prometheus.query('up{job="sluice"} == 1')).result.length === 1, {
      timeoutMs: 20_000,
      message: 'the sluice target to be scraped',
    });

    // Every metric has samples and moves between scrapes, so every expression answers.
    let missing: string[] = [];
    await waitFor(
      async () => {
        missing = [];
        for (const { source, expr } of expressions) {
          if (!hasFiniteValue(await prometheus.query(expr))) missing.push(`${source}: ${expr}`);
        }
        return missing.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 500, message: 'every expression to return data' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; still empty:\n  ${missing.join('\n  ')}`);
    });

    // Grafana fills its variables from these label_values() queries.
    for (const variable of variableQueries()) {
      const values = await prometheus.labelValues(variable.label, substituteVariables(variable.match));
      assert.ok(values.length > 0, `variable ${variable.name}: no ${variable.label} values for ${variable.match}`);
    }
    assert.deepEqual(
      await prometheus.labelValues('class', substituteVariables('sluice_requests_total{job=~"$job"}')),
      ['marketing', 'order'],
    );
  } finally {
    await prometheus.stop();
    await target.close();
  }
});
