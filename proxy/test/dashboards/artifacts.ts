// Reads the shipped observability files (dashboards/sluice.json, dashboards/alerts.yaml) into the
// PromQL they run, and runs promtool, for the tests in this folder.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { findPrometheusTool, MISSING_TOOLS_HINT } from '../helpers/prometheus.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DASHBOARD_PATH = `${REPO_ROOT}dashboards/sluice.json`;
export const ALERTS_PATH = `${REPO_ROOT}dashboards/alerts.yaml`;
export const ALERTS_TEST_PATH = `${REPO_ROOT}dashboards/alerts.test.yaml`;

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: { refId: string; expr: string; datasource?: { type?: string; uid?: string } }[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  type: string;
  name: string;
  query?: string | { query: string };
  definition?: string;
  datasource?: { type?: string; uid?: string };
}

export interface Dashboard {
  schemaVersion: number;
  uid: string;
  templating: { list: DashboardVariable[] };
  panels: DashboardPanel[];
}

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  const walk = (panels: DashboardPanel[]): void => {
    for (const panel of panels) {
      out.push(panel);
      if (panel.panels !== undefined) walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

export interface NamedExpr {
  /** Where the expression comes from, for failure messages. */
  readonly source: string;
  readonly expr: string;
}

export function dashboardQueries(dashboard: Dashboard = readDashboard()): NamedExpr[] {
  return allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({ source: `panel "${panel.title}" ${t.refId}`, expr: t.expr })),
  );
}

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(ALERTS_PATH, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return doc.groups.flatMap((group) => group.rules);
}

export function alertExpressions(): NamedExpr[] {
  return alertRules().map((rule) => ({ source: `alert ${rule.alert ?? rule.record}`, expr: rule.expr }));
}

/** label_values(SELECTOR, LABEL) queries of the dashboard's query variables. */
export function variableQueries(dashboard: Dashboard = readDashboard()): { name: string; match: string; label: string }[] {
  return dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const text = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const found = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
      if (found === null) throw new Error(`variable ${v.name}: not a label_values() query: ${text}`);
      return { name: v.name, match: found[1], label: found[2] };
    });
}

/** Concrete stand-ins for Grafana's variables, so a query can be sent to Prometheus as is. */
export const VARIABLE_VALUES: Readonly<Record<string, string>> = {
  datasource: 'prometheus',
  job: '.*',
  instance: '.*',
  account: '.*',
  class: '.*',
  cluster: '.*',
  global_cap: '30000',
  __rate_interval: '1m',
  __interval: '1m',
  __range: '1m',
};

export function substituteVariables(expr: string): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = VARIABLE_VALUES[name];
    if (value === undefined) throw new Error(`unknown dashboard variable ${whole} in: ${expr}`);
    return value;
  });
}

/** Metric names an expression reads: sluice_*, process_* and nodejs_* identifiers. */
export function referencedMetrics(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set(withoutStrings.match(/\b(?:sluice|process|nodejs)_[A-Za-z0-9_]*/g) ?? [])];
}

/** Series names an exposition offers: each metric, plus _bucket/_sum/_count for histograms and summaries. */
export function exposedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const found = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (found === null) continue;
    const [, name, type] = found;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

export interface ToolRun {
  readonly code: number | null;
  readonly output: string;
}

/** Runs promtool with the given arguments (and stdin), from the repository root. */
export async function promtool(args: readonly string[], stdin?: string): Promise<ToolRun> {
  const binary = findPrometheusTool('promtool');
  if (binary === null) throw new Error(`promtool not found: ${MISSING_TOOLS_HINT}`);
  const child = spawn(binary, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const done = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  child.stdin.end(stdin ?? '');
  return { code: await done, output };
}
