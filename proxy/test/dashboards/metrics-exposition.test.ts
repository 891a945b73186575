// The text exposition of sluice's registry passes `promtool check metrics` with nothing to fix (SPEC §6).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../../src/metrics.ts';
import { promtool } from './artifacts.ts';

test('promtool check metrics finds nothing to fix in the exposition', async () => {
  const metrics = new Metrics();
  metrics.requests.labels('order-center', 'order', 'primary', '200').inc(3);
  metrics.rejections.labels('promo', 'marketing', 'global_cap').inc();
  metrics.upstreamDuration.labels('primary', 'order').observe(0.012);
  metrics.overhead.observe(0.0002);
  metrics.breakerState.labels('primary-slow', 'primary').set(1);
  metrics.hotKeysTracked.labels('member-id').set(42);
  metrics.offScenario.labels('promo').inc();
  metrics.reloads.labels('success').inc();
  metrics.rulesInfo.labels('3f2a9c').set(1);
  metrics.globalAdmittedRatio.labels('order').set(0.4);
  metrics.shadowRejections.labels('promo', 'marketing', 'hot_key').inc();
  metrics.showAdaptive(new Map([['primary', { limit: 12, inflight: 3, noloadMs: 21.5, minLimit: 4 }]]));
  const exposition = await metrics.registry.metrics();
  assert.match(exposition, /^sluice_overhead_seconds_bucket\{le="\+Inf"\} 1$/m);
  assert.match(exposition, /^sluice_adaptive_min_rtt_seconds\{cluster="primary"\} 0\.0215$/m);

  const run = await promtool(['check', 'metrics'], exposition);
  assert.equal(
    run.output.trim(),
    '',
    `promtool check metrics reports problems (a default gauge named *_total is a counter-name clash):\n${run.output}`,
  );
  assert.equal(run.code, 0);
});
