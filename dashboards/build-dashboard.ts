// Builds dashboards/sluice.json, the Grafana dashboard shipped with sluice (SPEC §6, §7).
// Generated rather than hand-edited so every panel shares one datasource variable and one set of
// label filters; a test keeps the committed JSON equal to this output.
// Typed against Grafana's own dashboard schema (@grafana/schema), so a structural mistake fails
// the type check rather than an import into Grafana.
//   node dashboards/build-dashboard.ts        rewrites dashboards/sluice.json
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DashboardCursorSync,
  FieldColorModeId,
  MappingType,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DataSourceRef,
  type FieldConfig,
  type FieldConfigSource,
  type Panel,
  type RowPanel,
  type ThresholdsConfig,
  type ValueMapping,
  type ValueMappingResult,
  type VariableModel,
} from '@grafana/schema';

/** One field override: a matcher and the properties it sets. */
type Override = FieldConfigSource['overrides'][number];

/** A Prometheus query of a panel (Grafana keeps a datasource's query model open-ended). */
type PrometheusTarget = {
  refId: string;
  datasource: DataSourceRef;
  editorMode: 'code' | 'builder';
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
};

/** A query variable as Grafana's editor saves it: `definition` is the query shown in the list. */
type QueryVariable = VariableModel & { definition: string };

/** Every panel and query speaks to the datasource picked in the variable: no hard-coded uid. */
const DS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

// Label filters. job and instance expand to the sluice targets only (no '.*' all-value), so the
// generic process_* and nodejs_* series of other jobs never leak into the process panels.
const SIDECAR = 'job=~"$job", instance=~"$instance"';
const ACCOUNT = 'account=~"$account"';
const CLASS = 'class=~"$class"';
const CLUSTER = 'cluster=~"$cluster"';

const sel = (...filters: string[]): string => `{${[SIDECAR, ...filters].join(', ')}}`;
const rate = (metric: string, ...filters: string[]): string =>
  `rate(${metric}${sel(...filters)}[$__rate_interval])`;

interface Query {
  readonly expr: string;
  readonly legend: string;
  readonly instant?: boolean;
}

interface PanelSpec {
  readonly type: 'timeseries' | 'stat' | 'state-timeline';
  readonly title: string;
  readonly description: string;
  readonly queries: readonly Query[];
  readonly unit?: string;
  readonly stacked?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** A dashed red line at this value: the budget or limit the series is judged against. */
  readonly limitLine?: number;
  readonly mappings?: readonly { value: number; text: string; color: string }[];
  readonly overrides?: readonly Override[];
  readonly w: number;
  readonly h?: number;
}

interface Section {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const BREAKER_STATES = [
  { value: 0, text: 'closed', color: 'green' },
  { value: 1, text: 'open', color: 'red' },
  { value: 2, text: 'half-open', color: 'orange' },
];

const STORE_STATES = [
  { value: 0, text: 'down', color: 'red' },
  { value: 1, text: 'up', color: 'green' },
];

/** Overhead budget in seconds: the alert SluiceOverheadHigh fires above it. */
const OVERHEAD_BUDGET_SECONDS = 0.002;

const dashedRed = (name: string): Override => ({
  matcher: { id: 'byName', options: name },
  properties: [
    { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
    { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
    { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
    { id: 'custom.fillOpacity', value: 0 },
  ],
});

const dashedByRegex = (pattern: string): Override => ({
  matcher: { id: 'byRegexp', options: pattern },
  properties: [
    { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
    { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
    { id: 'custom.fillOpacity', value: 0 },
  ],
});

/** Adaptive concurrency limits (SPEC §9): learned limit against in flight, no-load latency, sheds. */
const ADAPTIVE_SECTION: Section = {
  title: 'Adaptive limits',
  panels: [
    {
      type: 'timeseries',
      title: 'Adaptive limit vs in flight, by cluster',
      description:
        'The concurrency limit L each sidecar learned per cluster (solid), the requests it has in flight there ' +
        '(dashed) and min_limit (red). In flight at L means the excess is shed with 503 overloaded; L at min_limit ' +
        'for long means the cluster is slow even at the least concurrency.',
      queries: [
        { expr: `max by (cluster, instance) (sluice_adaptive_limit${sel(CLUSTER)})`, legend: 'limit {{cluster}} {{instance}}' },
        { expr: `max by (cluster, instance) (sluice_adaptive_inflight${sel(CLUSTER)})`, legend: 'in flight {{cluster}} {{instance}}' },
        { expr: `max by (cluster) (sluice_adaptive_min_limit${sel(CLUSTER)})`, legend: 'min_limit {{cluster}}' },
      ],
      unit: 'short',
      min: 0,
      overrides: [
        dashedByRegex('^in flight '),
        // Red and dashed like a budget line, matched by prefix: one min_limit series per cluster.
        { matcher: { id: 'byRegexp', options: '^min_limit ' }, properties: dashedRed('min_limit').properties },
      ],
      w: 12,
    },
    {
      type: 'timeseries',
      title: 'No-load latency by cluster',
      description:
        'The no-load latency each adaptive limit compares the sampled latency against: the limit shrinks once ' +
        'latency passes tolerance x this. It falls fast and rises only slowly, never from queueing the limit caused.',
      queries: [{ expr: `max by (cluster, instance) (sluice_adaptive_min_rtt_seconds${sel(CLUSTER)})`, legend: '{{cluster}} {{instance}}' }],
      unit: 's',
      min: 0,
      w: 6,
    },
    {
      type: 'timeseries',
      title: 'Shed as overloaded, by class',
      description:
        'Requests refused with 503 overloaded per class (solid), and what shadow adaptive rules would refuse (dashed). ' +
        'The lowest classes should be shed first; the first class shed for long raises SluiceFirstClassOverloaded.',
      queries: [
        { expr: `sum by (class) (${rate('sluice_rejections_total', CLASS, 'reason="overloaded"')})`, legend: '{{class}}' },
        { expr: `sum by (class) (${rate('sluice_shadow_rejections_total', CLASS, 'reason="overloaded"')})`, legend: 'shadow {{class}}' },
      ],
      unit: 'reqps',
      min: 0,
      overrides: [dashedByRegex('^shadow ')],
      w: 6,
    },
  ],
};

/** Mismatch ratio above which the alert SluiceMirrorMismatchHigh fires (after 5 minutes). */
const MIRROR_MISMATCH_BUDGET = 0.01;

/** Migration cut-over (README): where a split sends each class, and how mirrored answers compare. */
const MIGRATION_SECTION: Section = {
  title: 'Migration cut-over',
  panels: [
    {
      type: 'timeseries',
      title: 'Split shares',
      description:
        "Share of each split class's requests by the cluster its split chose (the class's own or the split target): " +
        'it follows split.percent (sticky splits: the share of key values, weighted by their traffic).',
      queries: [
        {
          expr:
            `sum by (class, cluster) (${rate('sluice_split_requests_total', CLASS)}) / ignoring (cluster) group_left ` +
            `sum by (class) (${rate('sluice_split_requests_total', CLASS)})`,
          legend: '{{class}} → {{cluster}}',
        },
      ],
      unit: 'percentunit',
      stacked: true,
      min: 0,
      max: 1,
      w: 8,
    },
    {
      type: 'timeseries',
      title: 'Mirror mismatch ratio',
      description:
        'Mismatches / compared copies per mirror. Dashed: the alert threshold (SluiceMirrorMismatchHigh, 5 minutes). ' +
        'GET /admin/mirrors names the routes and JSON paths that differ.',
      queries: [
        {
          expr:
            `sum by (mirror) (${rate('sluice_mirror_requests_total', 'result="mismatch"')}) / ` +
            `sum by (mirror) (${rate('sluice_mirror_requests_total', 'result=~"match|mismatch"')})`,
          legend: '{{mirror}}',
        },
      ],
      unit: 'percentunit',
      min: 0,
      limitLine: MIRROR_MISMATCH_BUDGET,
      w: 8,
    },
    {
      type: 'timeseries',
      title: 'Mirrored copies by result',
      description:
        'Copies per second per mirror: match, mismatch, error (either side failed or timed out) and dropped ' +
        '(max_in_flight reached: never queued). Many drops mean the candidate is slow or max_in_flight low.',
      queries: [{ expr: `sum by (mirror, result) (${rate('sluice_mirror_requests_total')})`, legend: '{{mirror}} {{result}}' }],
      unit: 'reqps',
      stacked: true,
      min: 0,
      w: 8,
    },
  ],
};

const SECTIONS: readonly Section[] = [
  {
    title: 'Traffic',
    panels: [
      {
        type: 'timeseries',
        title: 'Admitted requests/s vs global cap',
        description:
          'Requests admitted and forwarded to an upstream cluster, stacked by class, against limits.global.rate ' +
          '(the "Global cap" variable). With scope: instance the cap applies to each sidecar.',
        queries: [
          {
            expr: `sum by (class) (${rate('sluice_upstream_duration_seconds_count', CLASS, CLUSTER)})`,
            legend: '{{class}}',
          },
          { expr: 'vector($global_cap)', legend: 'global cap' },
        ],
        unit: 'reqps',
        stacked: true,
        min: 0,
        overrides: [dashedRed('global cap')],
        w: 12,
      },
      {
        type: 'timeseries',
        title: 'Global cap used, by class',
        description:
          'sluice_global_admitted_ratio: share of the global cap admitted in the last second per class ' +
          '(highest sidecar). A class at its max_share is being shed with reason global_cap.',
        queries: [{ expr: `max by (class) (sluice_global_admitted_ratio${sel(CLASS)})`, legend: '{{class}}' }],
        unit: 'percentunit',
        min: 0,
        w: 12,
      },
      {
        type: 'timeseries',
        title: 'Answers by status code',
        description: 'Every request answered by sluice, admitted or rejected, by HTTP status code.',
        queries: [
          {
            expr: `sum by (code) (${rate('sluice_requests_total', ACCOUNT, CLASS, CLUSTER)})`,
            legend: '{{code}}',
          },
        ],
        unit: 'reqps',
        stacked: true,
        min: 0,
        w: 12,
      },
      {
        type: 'timeseries',
        title: 'Rejections by reason',
        description:
          'Requests refused by sluice, by reason (README "Answers"). Dashed: what shadow rules would have refused.',
        queries: [
          { expr: `sum by (reason) (${rate('sluice_rejections_total', ACCOUNT, CLASS)})`, legend: '{{reason}}' },
          {
            expr: `sum by (reason) (${rate('sluice_shadow_rejections_total', ACCOUNT, CLASS)})`,
            legend: 'shadow {{reason}}',
          },
        ],
        unit: 'reqps',
        stacked: true,
        min: 0,
        overrides: [dashedByRegex('shadow .*')],
        w: 12,
      },
    ],
  },
  {
    title: 'Callers',
    panels: [
      {
        type: 'timeseries',
        title: 'Top accounts by requests/s',
        description: 'The ten caller accounts sending the most requests.',
        queries: [
          {
            expr: `topk(10, sum by (account) (${rate('sluice_requests_total', ACCOUNT, CLASS, CLUSTER)}))`,
            legend: '{{account}}',
          },
        ],
        unit: 'reqps',
        min: 0,
        w: 8,
      },
      {
        type: 'timeseries',
        title: 'Top accounts by rejections/s',
        description: 'The ten caller accounts refused the most, whatever the reason.',
        queries: [
          {
            expr: `topk(10, sum by (account) (${rate('sluice_rejections_total', ACCOUNT, CLASS)}))`,
            legend: '{{account}}',
          },
        ],
        unit: 'reqps',
        min: 0,
        w: 8,
      },
      {
        type: 'timeseries',
        title: 'Off-scenario calls by account',
        description:
          'Calls outside the routes registered for the account: the account is used for something it was not ' +
          'registered for (refused with 403 when enforce_routes is on).',
        queries: [
          {
            expr: `sum by (account) (${rate('sluice_off_scenario_requests_total', ACCOUNT)})`,
            legend: '{{account}}',
          },
        ],
        unit: 'reqps',
        min: 0,
        w: 8,
      },
    ],
  },
  {
    title: 'Caller ledger',
    panels: [
      {
        type: 'stat',
        title: 'Accounts by flag',
        description:
          'Accounts as `sluice accounts report` would flag them: shared (more than one calling identity today, ' +
          'callers.identity), off-scenario or throttled (account_quota) in the last 24 h, and registered accounts ' +
          'with no identity seen today (unused). The report has the full picture per account.',
        queries: [
          { expr: `count(max by (account) (sluice_account_identities${sel()}) > 1) or vector(0)`, legend: 'shared', instant: true },
          {
            expr: `count(sum by (account) (increase(sluice_off_scenario_requests_total${sel()}[1d])) > 0) or vector(0)`,
            legend: 'off-scenario (24 h)',
            instant: true,
          },
          {
            expr: `count(sum by (account) (increase(sluice_rejections_total${sel('reason="account_quota"')}[1d])) > 0) or vector(0)`,
            legend: 'throttled (24 h)',
            instant: true,
          },
          {
            expr: `count(max by (account) (sluice_account_identities${sel('account!="unknown"')}) == 0) or vector(0)`,
            legend: 'unused today',
            instant: true,
          },
        ],
        unit: 'short',
        w: 10,
      },
      {
        type: 'timeseries',
        title: 'Top shared accounts (distinct calling identities today)',
        description:
          'sluice_account_identities of the 10 accounts with the most calling identities today (fleet-wide with a ' +
          'shared store); above 1, several services call with the account. A step up is a new service using it: ' +
          'see the SluiceAccountNewIdentity alert.',
        queries: [{ expr: `topk(10, max by (account) (sluice_account_identities${sel(ACCOUNT)}))`, legend: '{{account}}' }],
        limitLine: 1,
        unit: 'short',
        min: 0,
        w: 14,
      },
    ],
  },
  {
    title: 'Upstreams and breakers',
    panels: [
      {
        type: 'timeseries',
        title: 'Upstream latency p50 / p99 by cluster and class',
        description: 'Upstream response time to response headers, from sluice_upstream_duration_seconds.',
        queries: [0.5, 0.99].map((q) => ({
          expr:
            `histogram_quantile(${q}, sum by (le, cluster, class) ` +
            `(${rate('sluice_upstream_duration_seconds_bucket', CLUSTER, CLASS)}))`,
          legend: `p${q * 100} {{cluster}} / {{class}}`,
        })),
        unit: 's',
        min: 0,
        w: 12,
      },
      {
        type: 'state-timeline',
        title: 'Breaker states',
        description: 'State of each degrade rule\'s breaker per cluster and sidecar: closed, open or half-open.',
        queries: [
          {
            expr: `max by (breaker, cluster, instance) (sluice_breaker_state${sel(CLUSTER)})`,
            legend: '{{breaker}} {{cluster}} {{instance}}',
          },
        ],
        mappings: BREAKER_STATES,
        w: 12,
      },
      {
        type: 'timeseries',
        title: 'sluice overhead p50 / p99',
        description:
          'Time spent in sluice itself per request (guards and dispatch), excluding the upstream. ' +
          'Red line: the 2 ms budget of the SluiceOverheadHigh alert.',
        queries: [0.5, 0.99].map((q) => ({
          expr: `histogram_quantile(${q}, sum by (le) (${rate('sluice_overhead_seconds_bucket')}))`,
          legend: `p${q * 100}`,
        })),
        unit: 's',
        min: 0,
        limitLine: OVERHEAD_BUDGET_SECONDS,
        w: 12,
      },
      {
        type: 'timeseries',
        title: 'Hot keys tracked',
        description: 'Distinct key values held per hot-key rule on each sidecar (bounded by the rule\'s track; idle keys stay held until room is needed, so it falls only under pressure from new keys).',
        queries: [{ expr: `sum by (rule, instance) (sluice_hot_keys_tracked${sel()})`, legend: '{{rule}} {{instance}}' }],
        unit: 'short',
        min: 0,
        w: 12,
      },
    ],
  },
  ADAPTIVE_SECTION,
  MIGRATION_SECTION,
  {
    title: 'Rules and store',
    panels: [
      {
        type: 'stat',
        title: 'Rules version in force',
        description:
          'Rules version hash and how many sidecars run it. More than one version for long means a reload ' +
          'did not reach every sidecar.',
        queries: [{ expr: `count by (version) (sluice_rules_info${sel()})`, legend: '{{version}}', instant: true }],
        unit: 'none',
        w: 8,
        h: 6,
      },
      {
        type: 'stat',
        title: 'Rule reload failures',
        description:
          'Refused rules loads in the time range. The last good rules stay in force; /admin/rules shows the error.',
        queries: [
          {
            expr: `sum(increase(sluice_rules_reloads_total${sel('result="failure"')}[$__range]))`,
            legend: 'failures',
            instant: true,
          },
        ],
        unit: 'none',
        limitLine: 1,
        w: 4,
        h: 6,
      },
      {
        type: 'state-timeline',
        title: 'Counter store',
        description:
          'Whether each sidecar reaches the shared counter store. While down, fleet quotas fall back to ' +
          'per-instance limits (on_failure: local) or requests are refused (on_failure: reject).',
        queries: [{ expr: `min by (instance) (sluice_store_up${sel()})`, legend: '{{instance}}' }],
        mappings: STORE_STATES,
        w: 12,
        h: 6,
      },
    ],
  },
  upstreamSection(),
  {
    title: 'Process',
    panels: [
      {
        type: 'timeseries',
        title: 'CPU used (cores)',
        description: 'CPU seconds per second of each sidecar process.',
        queries: [{ expr: `sum by (instance) (${rate('process_cpu_seconds_total')})`, legend: '{{instance}}' }],
        unit: 'short',
        min: 0,
        w: 8,
      },
      {
        type: 'timeseries',
        title: 'Memory',
        description: 'Resident set size and V8 heap used of each sidecar process.',
        queries: [
          { expr: `sum by (instance) (process_resident_memory_bytes${sel()})`, legend: 'rss {{instance}}' },
          { expr: `sum by (instance) (nodejs_heap_size_used_bytes${sel()})`, legend: 'heap {{instance}}' },
        ],
        unit: 'bytes',
        min: 0,
        w: 8,
      },
      {
        type: 'timeseries',
        title: 'Event-loop lag p99',
        description: 'Event-loop delay p99 of each sidecar: every request waits this long on top of the rest.',
        queries: [{ expr: `max by (instance) (nodejs_eventloop_lag_p99_seconds${sel()})`, legend: '{{instance}}' }],
        unit: 's',
        min: 0,
        w: 8,
      },
    ],
  },
];

/** Endpoints' health, retries and chaos drills (SPEC §10, §11). */
function upstreamSection(): Section {
  return {
    title: 'Upstream endpoints, retries and drills',
    panels: [
      {
        type: 'state-timeline',
        title: 'Endpoint health',
        description:
          'Active health check verdict per endpoint (sluice_endpoint_healthy): out of rotation after `unhealthy` failed ' +
          'checks, back after `healthy` good ones. Every endpoint of a cluster out = panic mode (spread over all).',
        queries: [{ expr: `min by (cluster, endpoint) (sluice_endpoint_healthy${sel(CLUSTER)})`, legend: '{{cluster}} {{endpoint}}' }],
        mappings: [
          { value: 0, text: 'out', color: 'red' },
          { value: 1, text: 'in rotation', color: 'green' },
        ],
        w: 8,
      },
      {
        type: 'timeseries',
        title: 'Retries/s by result',
        description:
          'Failed attempts retried on another endpoint (sent) and retries refused by the retry budget ' +
          '(budget_exhausted: the failure reached the caller).',
        queries: [{ expr: `sum by (cluster, result) (${rate('sluice_retries_total', CLUSTER)})`, legend: '{{cluster}} {{result}}' }],
        unit: 'reqps',
        min: 0,
        w: 8,
      },
      {
        type: 'timeseries',
        title: 'Faults injected/s by drill',
        description:
          'Delays and aborts injected by chaos drills (faults in the rules, POST /admin/faults). A drill injecting ' +
          'for over an hour raises SluiceDrillRunningLong.',
        queries: [{ expr: `sum by (fault, kind) (${rate('sluice_faults_injected_total')})`, legend: '{{fault}} {{kind}}' }],
        unit: 'reqps',
        min: 0,
        w: 8,
      },
    ],
  };
}

function thresholds(limit: number | undefined): ThresholdsConfig {
  const steps: ThresholdsConfig['steps'] = [{ color: 'green', value: null }];
  if (limit !== undefined) steps.push({ color: 'red', value: limit });
  return { mode: ThresholdsMode.Absolute, steps };
}

function valueMappings(spec: PanelSpec): ValueMapping[] {
  if (spec.mappings === undefined) return [];
  const options: Record<string, ValueMappingResult> = {};
  spec.mappings.forEach((m, index) => {
    options[String(m.value)] = { text: m.text, color: m.color, index };
  });
  return [{ type: MappingType.ValueToText, options }];
}

function target(query: Query, index: number): PrometheusTarget {
  return {
    refId: String.fromCharCode(65 + index),
    datasource: DS,
    editorMode: 'code',
    expr: query.expr,
    legendFormat: query.legend,
    range: query.instant !== true,
    instant: query.instant === true,
  };
}

function custom(spec: PanelSpec): Record<string, unknown> {
  if (spec.type === 'stat') return {};
  if (spec.type === 'state-timeline') return { fillOpacity: 80, lineWidth: 0 };
  return {
    drawStyle: 'line',
    lineWidth: 1,
    fillOpacity: spec.stacked === true ? 30 : 10,
    showPoints: 'never',
    spanNulls: false,
    stacking: { mode: spec.stacked === true ? 'normal' : 'none', group: 'A' },
    thresholdsStyle: { mode: spec.limitLine === undefined ? 'off' : 'dashed' },
  };
}

function options(spec: PanelSpec): Record<string, unknown> {
  switch (spec.type) {
    case 'stat':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'value_and_name',
      };
    case 'state-timeline':
      return {
        showValue: 'auto',
        mergeValues: true,
        rowHeight: 0.9,
        alignValue: 'left',
        legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
        tooltip: { mode: 'single', sort: 'none' },
      };
    case 'timeseries':
      return {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
  }
}

function panel(spec: PanelSpec, id: number, x: number, y: number): Panel {
  const defaults: FieldConfig = {
    unit: spec.unit ?? 'short',
    color: { mode: spec.mappings === undefined && spec.type !== 'stat' ? FieldColorModeId.PaletteClassic : FieldColorModeId.Thresholds },
    custom: custom(spec),
    mappings: valueMappings(spec),
    thresholds: thresholds(spec.limitLine),
  };
  if (spec.min !== undefined) defaults.min = spec.min;
  if (spec.max !== undefined) defaults.max = spec.max;
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: DS,
    gridPos: { h: spec.h ?? 8, w: spec.w, x, y },
    fieldConfig: { defaults, overrides: [...(spec.overrides ?? [])] },
    options: options(spec),
    targets: spec.queries.map(target),
  };
}

/** Rows of panels, each row starting on a fresh line; panels flow left to right and wrap at 24. */
function layout(sections: readonly Section[]): (Panel | RowPanel)[] {
  const panels: (Panel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  for (const section of sections) {
    panels.push({ id: id++, type: 'row', title: section.title, collapsed: false, panels: [], gridPos: { h: 1, w: 24, x: 0, y } });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const spec of section.panels) {
      const h = spec.h ?? 8;
      if (x + spec.w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panel(spec, id++, x, y));
      x += spec.w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return panels;
}

function queryVariable(name: string, label: string, query: string, allValue: string | null): QueryVariable {
  const variable: QueryVariable = {
    type: 'query',
    name,
    label,
    datasource: DS,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: VariableRefresh.onTimeRangeChanged,
    includeAll: true,
    multi: true,
    // No `current`: Grafana picks the first value on load (an empty selection is not a VariableOption).
    options: [],
    regex: '',
    sort: VariableSort.alphabeticalAsc,
    hide: VariableHide.dontHide,
  };
  if (allValue !== null) variable.allValue = allValue;
  return variable;
}

export function buildDashboard(): Dashboard {
  return {
    id: null,
    uid: 'sluice-overview',
    title: 'sluice',
    description: 'Traffic governance sidecar: admissions, rejections, callers, upstreams, breakers, rules, process.',
    tags: ['sluice'],
    timezone: 'browser',
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    fiscalYearStartMonth: 0,
    liveNow: false,
    refresh: '30s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    links: [],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: {
      list: [
        {
          type: 'datasource',
          name: 'datasource',
          label: 'Data source',
          query: 'prometheus',
          options: [],
          refresh: VariableRefresh.onDashboardLoad,
          regex: '',
          hide: VariableHide.dontHide,
          includeAll: false,
          multi: false,
        },
        queryVariable('job', 'Job', 'label_values(sluice_rules_info, job)', null),
        queryVariable('instance', 'Sidecar', 'label_values(sluice_rules_info{job=~"$job"}, instance)', null),
        queryVariable('account', 'Account', 'label_values(sluice_requests_total{job=~"$job"}, account)', '.*'),
        queryVariable('class', 'Class', 'label_values(sluice_requests_total{job=~"$job"}, class)', '.*'),
        queryVariable('cluster', 'Cluster', 'label_values(sluice_requests_total{job=~"$job"}, cluster)', '.*'),
        {
          type: 'textbox',
          name: 'global_cap',
          label: 'Global cap (req/s)',
          description: 'limits.global.rate from the rules, drawn on the admitted requests panel.',
          query: '30000',
          current: { text: '30000', value: '30000' },
          options: [{ selected: true, text: '30000', value: '30000' }],
          hide: VariableHide.dontHide,
        },
      ],
    },
    panels: layout(SECTIONS),
  };
}

/** The file's text exactly as committed: two-space JSON and a final newline. */
export function dashboardText(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

export const DASHBOARD_FILE = fileURLToPath(new URL('./sluice.json', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(DASHBOARD_FILE, dashboardText());
  process.stdout.write(`wrote ${DASHBOARD_FILE}\n`);
}
