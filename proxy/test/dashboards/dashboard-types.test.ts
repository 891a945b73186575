// The dashboard builder is typed against Grafana's dashboard schema (@grafana/schema): the
// mistakes below are type errors (the type check fails if any of them stops being one), and the
// built dashboard is a Dashboard.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dashboard, Panel, RowPanel, ThresholdsConfig, VariableModel } from '@grafana/schema';
import { buildDashboard } from '../../../dashboards/build-dashboard.ts';

test('structural mistakes in a dashboard are type errors', () => {
  // @ts-expect-error a panel without its type
  const untyped: Panel = { title: 'x' };
  // @ts-expect-error gridPos needs w, h, x and y
  const misplaced: Panel = { type: 'timeseries', gridPos: { x: 0, y: 0 } };
  // @ts-expect-error a row holds panels, not queries
  const row: RowPanel = { type: 'row', id: 1, collapsed: false, panels: [], targets: [] };
  // @ts-expect-error threshold steps have a color and a value
  const thresholds: ThresholdsConfig = { mode: 'absolute', steps: [{ value: 1 }] };
  // @ts-expect-error a variable has a name
  const variable: VariableModel = { type: 'query' };
  // @ts-expect-error the dashboard has a schemaVersion
  const dashboard: Dashboard = { title: 'x' };
  assert.ok([untyped, misplaced, row, thresholds, variable, dashboard].length === 6);
});

test('the built dashboard is a Grafana Dashboard with rows and panels', () => {
  const dashboard: Dashboard = buildDashboard();
  assert.ok(dashboard.schemaVersion >= 36);
  const rows = (dashboard.panels ?? []).filter((p): p is RowPanel => p.type === 'row');
  assert.ok(rows.length >= 4, 'rows');
  for (const panel of dashboard.panels ?? []) assert.ok(panel.gridPos !== undefined, `panel ${panel.title} placed`);
});
