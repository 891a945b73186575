// dashboards/alerts.yaml passes `promtool check rules`, and its unit tests (alerts.test.yaml) pass.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALERTS_PATH, ALERTS_TEST_PATH, alertRules, promtool } from './artifacts.ts';

const EXPECTED_ALERTS = [
  'SluiceBreakerOpenLong',
  'SluiceStoreDown',
  'SluiceRulesReloadFailing',
  'SluiceOrderClassShed',
  'SluiceOverheadHigh',
  'SluiceOffScenarioSpike',
  'SluiceAdaptiveLimitAtMin',
  'SluiceFirstClassOverloaded',
  'SluiceAccountNewIdentity',
  'SluiceDrillRunningLong',
  'SluiceMirrorMismatchHigh',
];

test('promtool check rules finds the alert rules clean', async () => {
  const run = await promtool(['check', 'rules', ALERTS_PATH]);
  assert.equal(run.code, 0, `promtool check rules failed:\n${run.output}`);
  assert.match(run.output, new RegExp(`SUCCESS: ${EXPECTED_ALERTS.length} rules found`));
});

test('promtool unit tests of the alerts pass', async () => {
  const run = await promtool(['test', 'rules', ALERTS_TEST_PATH]);
  assert.equal(run.code, 0, `promtool test rules failed:\n${run.output}`);
  assert.match(run.output, /SUCCESS/);
});

test('every shipped alert has a severity, a summary, a description and a runbook', () => {
  const rules = alertRules() as unknown as {
    alert: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  }[];
  assert.deepEqual(rules.map((r) => r.alert).sort(), [...EXPECTED_ALERTS].sort());
  for (const rule of rules) {
    assert.match(rule.labels?.severity ?? '', /^(warning|critical)$/, `${rule.alert}: severity`);
    for (const key of ['summary', 'description', 'runbook']) {
      assert.ok((rule.annotations?.[key] ?? '').length > 20, `${rule.alert}: annotation ${key}`);
    }
  }
});

test('every alert is exercised by the unit tests, firing and not firing', async () => {
  const { readFile } = await import('node:fs/promises');
  const { parse } = await import('yaml');
  const doc = parse(await readFile(ALERTS_TEST_PATH, 'utf8')) as {
    tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const alert of EXPECTED_ALERTS) {
    const mine = cases.filter((c) => c.alertname === alert);
    assert.ok(mine.some((c) => c.exp_alerts.length > 0), `${alert}: no case where it fires`);
    assert.ok(mine.some((c) => c.exp_alerts.length === 0), `${alert}: no case where it stays silent`);
  }
});
