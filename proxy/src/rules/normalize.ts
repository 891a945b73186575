// Turns a validated rules document into the normalized `Rules`: defaults filled in, rates in
// requests per second, durations in milliseconds. Only called once the document has no problems,
// so the shape below is guaranteed by the schema and the semantic checks.

import type {
  AccountRules,
  AdaptiveRules,
  IdentitySource,
  BalanceKind,
  ClassRules,
  ClusterRules,
  HealthCheckRules,
  RetryRules,
  DegradeRules,
  FaultRules,
  HotKeyRules,
  MirrorRules,
  Rate,
  Rules,
  StoreKind,
  DegradeKind,
  DegradeAction,
} from './types.ts';
import { defaultBurst } from './burst.ts';
import { parseDuration, parseRate } from './units.ts';

/** Defaults of every optional setting; README's rules reference lists the same values. */
export const DEFAULTS = {
  listen: '0.0.0.0:9080',
  admin: '127.0.0.1:9901',
  metricsPublic: false,
  headersTimeout: '10s',
  maxHeaders: 100,
  storeKind: 'memory',
  onFailure: 'local',
  instances: 1,
  clusterTimeout: '2s',
  connections: 128,
  maxShare: 1,
  failover: 'none',
  auth: 'key',
  unknown: 'reject',
  enforceRoutes: false,
  identity: ['header:x-client-app', 'ip'],
  globalScope: 'fleet',
  track: 100_000,
  window: '1s',
  minRequests: 10,
  openFor: '10s',
  probes: 3,
  shadow: false,
  adaptiveAlgorithm: 'gradient',
  initialLimit: 20,
  minLimit: 4,
  maxLimit: 1000,
  tolerance: 2,
  reserve: 0.2,
  balance: 'round_robin',
  healthPath: '/healthz',
  healthInterval: '5s',
  healthTimeout: '1s',
  unhealthy: 3,
  healthy: 2,
  retryAttempts: 2,
  retryOn: ['connect_failure', 'reset'],
  retryBudget: 0.2,
  traceSample: 0.01,
  traceServiceName: 'sluice',
  mirrorPercent: 100,
  mirrorMethods: ['GET', 'HEAD'],
  maxInFlight: 64,
} as const;

interface RawDocument {
  server?: { listen?: string; admin?: string; admin_token_env?: string; metrics_public?: boolean; headers_timeout?: string; max_headers?: number } | null;
  store?: {
    kind?: StoreKind;
    url?: string;
    nodes?: string[];
    on_failure?: 'local' | 'reject';
    instances?: number;
  } | null;
  clusters?: Record<string, RawCluster> | null;
  classes?: Record<
    string,
    { cluster: string; failover?: string; max_share?: number; split?: { to: string; percent: number; sticky?: string } }
  > | null;
  switch?: Record<string, string> | null;
  callers?: {
    auth?: 'key' | 'trust';
    unknown?: string;
    unknown_quota?: string;
    enforce_routes?: boolean;
    accounts?: RawAccount[] | null;
    identity?: string[];
  } | null;
  limits?: {
    global?: { rate: string; scope?: 'fleet' | 'instance'; shadow?: boolean };
    hot_keys?: RawHotKey[] | null;
    adaptive?: RawAdaptive[] | null;
  } | null;
  degrade?: RawDegrade[] | null;
  tracing?: { otlp: string; sample?: number; service_name?: string } | null;
  faults?: RawFault[] | null;
  mirrors?: RawMirror[] | null;
}

/** A fault entry as written (rules files, or the JSON posted to /admin/faults). */
export interface RawFault {
  name: string;
  cluster?: string;
  class?: string;
  accounts?: string[];
  header?: string;
  delay?: string;
  delay_percent?: number;
  abort?: number;
  abort_percent?: number;
  until?: string;
}

interface RawCluster {
  endpoints: string[];
  timeout?: string;
  connections?: number;
  balance?: BalanceKind;
  health_check?: { path?: string; interval?: string; timeout?: string; unhealthy?: number; healthy?: number };
  retry?: { attempts?: number; on?: (string | number)[]; budget?: number };
}

interface RawMirror {
  name: string;
  from: string;
  to: string;
  percent?: number;
  methods?: string[];
  compare?: { ignore?: string[] };
  max_in_flight?: number;
}

interface RawAccount {
  id: string;
  owner: string;
  team: string;
  scenario: string;
  class: string;
  key_sha256?: string;
  quota?: string;
  burst?: number;
  routes?: string[];
}

interface RawHotKey {
  name: string;
  key: string;
  rate: string;
  burst?: number;
  overrides?: Record<string, string>;
  track?: number;
  shadow?: boolean;
}

interface RawAdaptive {
  cluster: string;
  algorithm?: 'gradient' | 'aimd';
  initial_limit?: number;
  min_limit?: number;
  max_limit?: number;
  tolerance?: number;
  reserve?: number;
  shadow?: boolean;
}

interface RawDegrade {
  name: string;
  cluster: string;
  kind: DegradeKind;
  threshold: string | number;
  window?: string;
  min_requests?: number;
  open_for?: string;
  probes?: number;
  action: DegradeAction;
  shadow?: boolean;
}

export function normalizeRules(document: Record<string, unknown>): Rules {
  const doc = document as RawDocument;
  const server = doc.server ?? {};
  const store = doc.store ?? {};
  const callers = doc.callers ?? {};
  const limits = doc.limits ?? {};

  const clusters = new Map<string, ClusterRules>();
  for (const [name, raw] of Object.entries(doc.clusters ?? {})) {
    clusters.set(name, {
      name,
      endpoints: raw.endpoints.map((endpoint) => endpoint.replace(/\/$/, '')),
      timeoutMs: duration(raw.timeout ?? DEFAULTS.clusterTimeout),
      connections: raw.connections ?? DEFAULTS.connections,
      balance: raw.balance ?? DEFAULTS.balance,
      healthCheck: raw.health_check === undefined ? null : normalizeHealthCheck(raw.health_check),
      retry: raw.retry === undefined ? null : normalizeRetry(raw.retry),
    });
  }

  const classes: ClassRules[] = Object.entries(doc.classes ?? {}).map(([name, raw], priority) => ({
    name,
    priority,
    cluster: raw.cluster,
    failover: (raw.failover ?? DEFAULTS.failover) === 'none' ? null : (raw.failover as string),
    maxShare: raw.max_share ?? DEFAULTS.maxShare,
    split: raw.split === undefined ? null : { to: raw.split.to, percent: raw.split.percent, sticky: raw.split.sticky ?? null },
  }));

  return {
    server: {
      listen: server.listen ?? DEFAULTS.listen,
      admin: server.admin ?? DEFAULTS.admin,
      adminTokenEnv: server.admin_token_env ?? null,
      metricsPublic: server.metrics_public ?? DEFAULTS.metricsPublic,
      headersTimeoutMs: duration(server.headers_timeout ?? DEFAULTS.headersTimeout),
      maxHeaders: server.max_headers ?? DEFAULTS.maxHeaders,
    },
    store: {
      kind: store.kind ?? DEFAULTS.storeKind,
      url: store.url ?? null,
      nodes: store.nodes ?? [],
      onFailure: store.on_failure ?? DEFAULTS.onFailure,
      instances: store.instances ?? DEFAULTS.instances,
    },
    clusters,
    classes,
    switch: new Map(Object.entries(doc.switch ?? {})),
    callers: {
      auth: callers.auth ?? DEFAULTS.auth,
      unknown: callers.unknown ?? DEFAULTS.unknown,
      unknownQuota: callers.unknown_quota === undefined ? null : rate(callers.unknown_quota),
      unknownBurst: callers.unknown_quota === undefined ? 0 : defaultBurst(rate(callers.unknown_quota).perSecond),
      enforceRoutes: callers.enforce_routes ?? DEFAULTS.enforceRoutes,
      accounts: (callers.accounts ?? []).map(normalizeAccount),
      identity: (callers.identity ?? DEFAULTS.identity).map(identitySource),
    },
    limits: {
      global:
        limits.global === undefined
          ? null
          : {
              rate: rate(limits.global.rate),
              burst: defaultBurst(rate(limits.global.rate).perSecond),
              scope: limits.global.scope ?? DEFAULTS.globalScope,
              shadow: limits.global.shadow ?? DEFAULTS.shadow,
            },
      hotKeys: (limits.hot_keys ?? []).map(normalizeHotKey),
      adaptive: (limits.adaptive ?? []).map(normalizeAdaptive),
    },
    degrade: (doc.degrade ?? []).map(normalizeDegrade),
    tracing:
      doc.tracing === undefined || doc.tracing === null
        ? null
        : {
            otlp: doc.tracing.otlp,
            sample: doc.tracing.sample ?? DEFAULTS.traceSample,
            serviceName: doc.tracing.service_name ?? DEFAULTS.traceServiceName,
          },
    mirrors: (doc.mirrors ?? []).map(normalizeMirror),
    faults: (doc.faults ?? []).map((raw) => normalizeFault(raw, raw.until === undefined ? null : Date.parse(raw.until))),
  };
}

function normalizeHealthCheck(raw: NonNullable<RawCluster['health_check']>): HealthCheckRules {
  return {
    path: raw.path ?? DEFAULTS.healthPath,
    intervalMs: duration(raw.interval ?? DEFAULTS.healthInterval),
    timeoutMs: duration(raw.timeout ?? DEFAULTS.healthTimeout),
    unhealthy: raw.unhealthy ?? DEFAULTS.unhealthy,
    healthy: raw.healthy ?? DEFAULTS.healthy,
  };
}

function normalizeRetry(raw: NonNullable<RawCluster['retry']>): RetryRules {
  const on = (raw.on ?? DEFAULTS.retryOn).map(String);
  return {
    attempts: raw.attempts ?? DEFAULTS.retryAttempts,
    onConnectFailure: on.includes('connect_failure'),
    onReset: on.includes('reset'),
    onTimeout: on.includes('timeout'),
    statuses: on.filter((entry) => /^[0-9]+$/.test(entry)).map(Number),
    budget: raw.budget ?? DEFAULTS.retryBudget,
  };
}

/** A fault entry with its end (`until`, or now + the posted ttl). */
export function normalizeFault(raw: RawFault, until: number | null): FaultRules {
  let header: FaultRules['header'] = null;
  if (raw.header !== undefined) {
    const colon = raw.header.indexOf(':');
    header = { name: raw.header.slice(0, colon).trim().toLowerCase(), value: raw.header.slice(colon + 1).trim() };
  }
  return {
    name: raw.name,
    cluster: raw.cluster ?? null,
    className: raw.class ?? null,
    accounts: raw.accounts ?? null,
    header,
    delayMs: raw.delay === undefined ? 0 : duration(raw.delay),
    delayPercent: raw.delay === undefined ? 0 : (raw.delay_percent ?? 100),
    abortStatus: raw.abort ?? null,
    abortPercent: raw.abort === undefined ? 0 : (raw.abort_percent ?? 100),
    until,
  };
}

function normalizeAccount(raw: RawAccount): AccountRules {
  return {
    id: raw.id,
    owner: raw.owner,
    team: raw.team,
    scenario: raw.scenario,
    class: raw.class,
    keySha256: raw.key_sha256 ?? null,
    quota: raw.quota === undefined ? null : rate(raw.quota),
    burst: raw.burst ?? (raw.quota === undefined ? 0 : defaultBurst(rate(raw.quota).perSecond)),
    routes: raw.routes ?? null,
  };
}

function normalizeHotKey(raw: RawHotKey): HotKeyRules {
  const overrides = new Map<string, Rate>();
  const overrideBursts = new Map<string, number>();
  for (const [value, text] of Object.entries(raw.overrides ?? {})) {
    overrides.set(value, rate(text));
    overrideBursts.set(value, raw.burst ?? defaultBurst(rate(text).perSecond));
  }
  return {
    name: raw.name,
    key: raw.key,
    rate: rate(raw.rate),
    burst: raw.burst ?? defaultBurst(rate(raw.rate).perSecond),
    overrides,
    overrideBursts,
    track: raw.track ?? DEFAULTS.track,
    shadow: raw.shadow ?? DEFAULTS.shadow,
  };
}

function normalizeAdaptive(raw: RawAdaptive): AdaptiveRules {
  return {
    cluster: raw.cluster,
    algorithm: raw.algorithm ?? DEFAULTS.adaptiveAlgorithm,
    initialLimit: raw.initial_limit ?? DEFAULTS.initialLimit,
    minLimit: raw.min_limit ?? DEFAULTS.minLimit,
    maxLimit: raw.max_limit ?? DEFAULTS.maxLimit,
    tolerance: raw.tolerance ?? DEFAULTS.tolerance,
    reserve: raw.reserve ?? DEFAULTS.reserve,
    shadow: raw.shadow ?? DEFAULTS.shadow,
  };
}

function normalizeDegrade(raw: RawDegrade): DegradeRules {
  return {
    name: raw.name,
    cluster: raw.cluster,
    kind: raw.kind,
    threshold: raw.kind === 'rt' ? duration(String(raw.threshold)) : Number(raw.threshold),
    windowMs: duration(raw.window ?? DEFAULTS.window),
    minRequests: raw.min_requests ?? DEFAULTS.minRequests,
    openForMs: duration(raw.open_for ?? DEFAULTS.openFor),
    probes: raw.probes ?? DEFAULTS.probes,
    action: raw.action,
    shadow: raw.shadow ?? DEFAULTS.shadow,
  };
}

function normalizeMirror(raw: RawMirror): MirrorRules {
  return {
    name: raw.name,
    from: raw.from,
    to: raw.to,
    percent: raw.percent ?? DEFAULTS.mirrorPercent,
    methods: raw.methods ?? DEFAULTS.mirrorMethods,
    ignore: raw.compare?.ignore ?? [],
    maxInFlight: raw.max_in_flight ?? DEFAULTS.maxInFlight,
  };
}

function rate(text: string): Rate {
  const parsed = parseRate(text);
  if (parsed === null) throw new Error(`not a rate: ${text}`);
  return parsed;
}

function duration(text: string): number {
  const parsed = parseDuration(text);
  if (parsed === null) throw new Error(`not a duration: ${text}`);
  return parsed;
}

/** `header:NAME` (the name lower-cased, as Node presents headers) or `ip`. */
function identitySource(text: string): IdentitySource {
  return text === 'ip' ? { kind: 'ip' } : { kind: 'header', name: text.slice('header:'.length).toLowerCase() };
}
