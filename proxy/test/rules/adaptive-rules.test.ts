// limits.adaptive (SPEC §9): defaults, and each mistake named at its file:line:col.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRules } from '../../src/rules/load.ts';
import { fixture } from './fixtures.ts';

test('adaptive limits get the documented defaults', async () => {
  const result = await loadRules(fixture('adaptive-valid.yaml'));
  assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
  assert.deepEqual(result.rules.limits.adaptive, [
    { cluster: 'primary', algorithm: 'gradient', initialLimit: 20, minLimit: 4, maxLimit: 1000, tolerance: 2, reserve: 0.2, shadow: false },
    { cluster: 'backup', algorithm: 'aimd', initialLimit: 1, minLimit: 1, maxLimit: 1000, tolerance: 2, reserve: 0.2, shadow: false },
  ]);
});

test('adaptive limits: unknown cluster, a second entry for a cluster, limits out of order, values out of range', async () => {
  const f = fixture('adaptive-problems.yaml');
  const result = await loadRules(f);
  assert.equal(result.ok, false);
  assert.deepEqual(result.ok ? [] : result.errors, [
    `${f}:9:38: limits.adaptive[0].min_limit: min_limit (10) must not exceed max_limit (5)`,
    `${f}:10:18: limits.adaptive[1].cluster: duplicate adaptive limit for cluster 'primary' (first at ${f}:9:18)`,
    `${f}:11:18: limits.adaptive[2].cluster: unknown cluster 'primery' (clusters: primary, backup)`,
    `${f}:12:41: limits.adaptive[3].initial_limit: initial_limit (2) must be at least min_limit (4)`,
    `${f}:13:18: limits.adaptive[4].cluster: duplicate adaptive limit for cluster 'backup' (first at ${f}:12:18)`,
    `${f}:13:37: limits.adaptive[4].algorithm: must be one of gradient, aimd (got 'vegas')`,
    `${f}:13:55: limits.adaptive[4].tolerance: must be >= 1`,
    `${f}:13:69: limits.adaptive[4].reserve: must be <= 1`,
  ]);
});

test('sluice validate counts the adaptive limits', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { SLUICE_BIN } = await import('../helpers/sidecar-process.ts');
  const { stdout } = await promisify(execFile)(process.execPath, [SLUICE_BIN, 'validate', fixture('adaptive-valid.yaml')]);
  assert.match(stdout, / 0 degrade rules, 2 adaptive limits \(version [0-9a-f]{12}\)\n$/);
});
