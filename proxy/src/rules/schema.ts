// JSON Schema of the rules document: the single source of truth for the loader (ajv) and for
// editors (rules/schema.json, written from this by write-schema.ts). Every object rejects
// unknown keys so a typo is an error, not a silently ignored setting.
// Cross-references (a class naming a cluster, ...) are checked by semantics.ts, not here.

import { DURATION_PATTERN, RATE_PATTERN } from './units.ts';

export const NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_-]*$';
export const ACCOUNT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
export const HOST_PORT_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$';
export const HTTP_URL_PATTERN = '^https?://[^\\s/?#@]+/?$';
export const REDIS_URL_PATTERN = '^rediss?://\\S+$';
export const SHA256_PATTERN = '^[0-9a-f]{64}$';
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const ROUTE_PATTERN = '^([A-Z]+|\\*) +/\\S*$';
export const IDENTITY_SOURCE_PATTERN = "^(ip|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$";
export const FAULT_HEADER_PATTERN = '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+: *\\S.*$';
export const ISO_TIME_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$';
export const RETRY_ON_PATTERN = '^(connect_failure|reset|timeout|[45][0-9]{2})$';
export const OTLP_URL_PATTERN = '^https?://[^\\s/?#@]+(/\\S*)?$';
export const JSON_POINTER_PATTERN = '^(/([^~/]|~[01])*)+$';
export const METHOD_PATTERN = '^[A-Z]+$';

/** The message shown when a value fails one of the patterns above. */
export const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  [RATE_PATTERN]: 'must be a rate like 200/s or 3000/min',
  [DURATION_PATTERN]: 'must be a duration like 250ms, 2s or 1m',
  [NAME_PATTERN]: 'must be a name: a letter, then letters, digits, - or _',
  [ACCOUNT_ID_PATTERN]: 'must be an account id: letters, digits, ., - or _',
  [HOST_PORT_PATTERN]: 'must be HOST:PORT, e.g. 127.0.0.1:9901',
  [HTTP_URL_PATTERN]: 'must be an http(s) URL with host and port only, e.g. http://10.0.0.5:8080',
  [REDIS_URL_PATTERN]: 'must be a redis URL, e.g. redis://127.0.0.1:6379',
  [SHA256_PATTERN]: 'must be a SHA-256 digest: 64 lower-case hex digits',
  [ENV_NAME_PATTERN]: 'must be an environment variable name, e.g. SLUICE_ADMIN_TOKEN',
  [ROUTE_PATTERN]: "must be 'METHOD /path', e.g. 'GET /members/*'",
  [IDENTITY_SOURCE_PATTERN]: 'must be header:NAME or ip, e.g. header:x-client-app',
  [FAULT_HEADER_PATTERN]: "must be 'name: value', e.g. 'x-sluice-drill: on'",
  [ISO_TIME_PATTERN]: 'must be an ISO 8601 time like 2026-12-24T10:00:00Z',
  [RETRY_ON_PATTERN]: 'must be connect_failure, reset, timeout or a 4xx/5xx status such as "503"',
  [OTLP_URL_PATTERN]: 'must be an OTLP/HTTP traces URL, e.g. http://otel-collector:4318/v1/traces',
  [JSON_POINTER_PATTERN]: 'must be a JSON Pointer, e.g. /served_at or /items/0/took',
  [METHOD_PATTERN]: 'must be an HTTP method in capitals, e.g. GET',
};

const rate = {
  type: 'string',
  pattern: RATE_PATTERN,
  description: 'A rate: N/s or N/min, e.g. 200/s, 3000/min.',
};
const duration = {
  type: 'string',
  pattern: DURATION_PATTERN,
  description: 'A duration: 250ms, 2s or 1m.',
};
const shadow = {
  type: 'boolean',
  default: false,
  description: 'Evaluate and count (sluice_shadow_rejections_total) but admit: the safe way to roll out a rule.',
};

const server = {
  type: ['object', 'null'],
  additionalProperties: false,
  description: 'Listener addresses. Command-line flags and SLUICE_LISTEN / SLUICE_ADMIN override them.',
  properties: {
    listen: {
      type: 'string',
      pattern: HOST_PORT_PATTERN,
      default: '0.0.0.0:9080',
      description: 'Where callers connect (HOST:PORT).',
    },
    admin: {
      type: 'string',
      pattern: HOST_PORT_PATTERN,
      default: '127.0.0.1:9901',
      description: 'Admin port: health, metrics, admin API. Loopback unless a bearer token is configured (probes answer without it).',
    },
    admin_token_env: {
      type: 'string',
      pattern: ENV_NAME_PATTERN,
      description: 'Name of the environment variable holding the admin bearer token (needed for a non-loopback admin).',
    },
    metrics_public: {
      type: 'boolean',
      default: false,
      description: 'true: /metrics answers without the admin token on a non-loopback admin address (/healthz and /readyz always do).',
    },
    headers_timeout: {
      ...duration,
      default: '10s',
      description: 'Longest wait for a request\'s complete headers (100ms to 1m); a slower client gets 408 and is disconnected.',
    },
    max_headers: {
      type: 'integer',
      minimum: 1,
      maximum: 10000,
      default: 100,
      description: 'Most header fields in one request; more gets 431 and the connection is closed.',
    },
  },
};

const store = {
  type: ['object', 'null'],
  additionalProperties: false,
  description: 'Where shared counters (fleet quotas, global cap) live.',
  properties: {
    kind: {
      enum: ['memory', 'redis', 'redis-cluster'],
      default: 'memory',
      description: 'memory: per instance | redis: one Redis (needs url) | redis-cluster: needs nodes.',
    },
    url: { type: 'string', pattern: REDIS_URL_PATTERN, description: 'Redis URL for kind: redis.' },
    nodes: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: HOST_PORT_PATTERN },
      description: 'Redis Cluster seed nodes (HOST:PORT) for kind: redis-cluster.',
    },
    on_failure: {
      enum: ['local', 'reject'],
      default: 'local',
      description: 'When the store is unreachable. local: each instance enforces quota / instances (fail-open) | reject: 503.',
    },
    instances: {
      type: 'integer',
      minimum: 1,
      default: 1,
      description: 'Fleet size hint: fleet quotas are split by it in local fallback.',
    },
  },
};

const cluster = {
  type: 'object',
  additionalProperties: false,
  required: ['endpoints'],
  description: 'An upstream cluster.',
  properties: {
    endpoints: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: HTTP_URL_PATTERN },
      description: 'Upstream base URLs (scheme, host, port); load is balanced across them.',
    },
    timeout: { ...duration, default: '2s', description: 'Upstream response timeout (504 upstream_timeout).' },
    connections: {
      type: 'integer',
      minimum: 1,
      default: 128,
      description: 'Most connections kept open to each endpoint.',
    },
    balance: {
      enum: ['round_robin', 'least_request'],
      default: 'round_robin',
      description: 'round_robin | least_request: of two endpoints picked at random, the one with fewer requests in flight.',
    },
    health_check: {
      type: 'object',
      additionalProperties: false,
      description: 'Active health checks: GET path on every endpoint each interval (with jitter); off unless set.',
      properties: {
        path: { type: 'string', pattern: '^/', default: '/healthz', description: 'Path checked; a 2xx answer is healthy.' },
        interval: { ...duration, default: '5s', description: 'Time between two checks of one endpoint.' },
        timeout: { ...duration, default: '1s', description: 'A check not answered in this time failed.' },
        unhealthy: { type: 'integer', minimum: 1, default: 3, description: 'Failed checks in a row that take the endpoint out of rotation.' },
        healthy: { type: 'integer', minimum: 1, default: 2, description: 'Good checks in a row that bring it back.' },
      },
    },
    retry: {
      type: 'object',
      additionalProperties: false,
      description: 'Retries on another endpoint: idempotent methods, no body or a small one, never after answer bytes left.',
      properties: {
        attempts: { type: 'integer', minimum: 2, maximum: 10, default: 2, description: 'Tries in all, the first included.' },
        on: {
          type: 'array',
          minItems: 1,
          items: {
            type: ['string', 'integer'],
            pattern: RETRY_ON_PATTERN,
            minimum: 400,
            maximum: 599,
          },
          default: ['connect_failure', 'reset'],
          description: 'What is retried: connect_failure, reset, timeout, or an upstream status such as "503".',
        },
        budget: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: 0.2,
          description: "Retries may add at most this share of the cluster's requests over the last 10 s.",
        },
      },
    },
  },
};

const percent = {
  type: 'number',
  minimum: 0,
  maximum: 100,
  description: 'A share of requests, 0-100 (steps of 0.01).',
};

const split = {
  type: 'object',
  additionalProperties: false,
  required: ['to', 'percent'],
  description: "Send a share of the class's admitted requests to another cluster (migration cut-over).",
  properties: {
    to: { type: 'string', description: 'Cluster that receives the share.' },
    percent: { ...percent, description: "Share of the class's requests sent to `to`, 0-100." },
    sticky: {
      type: 'string',
      description:
        'path:/TEMPLATE/{name} | query:NAME | header:NAME | ip: the choice is a stable hash of this key, ' +
        'so one value always goes to the same cluster and raising percent only moves values to `to`.',
    },
  },
};

const mirror = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'from', 'to'],
  description: 'Copy requests sent to one cluster to another and compare the answers; the copy is never returned.',
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN, description: 'Mirror name (metrics label, /admin/mirrors).' },
    from: { type: 'string', description: 'Requests forwarded to this cluster are copied.' },
    to: { type: 'string', description: 'Cluster the copies go to (its timeout bounds each copy).' },
    percent: { ...percent, default: 100, description: 'Share of eligible requests copied, 0-100.' },
    methods: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: METHOD_PATTERN },
      default: ['GET', 'HEAD'],
      description: 'Methods copied. A request carrying a body is never copied.',
    },
    compare: {
      type: 'object',
      additionalProperties: false,
      description: 'How the two answers are compared: status, then JSON structurally, else byte for byte.',
      properties: {
        ignore: {
          type: 'array',
          items: { type: 'string', pattern: JSON_POINTER_PATTERN },
          description: 'JSON Pointer paths left out of the comparison, e.g. [/took, /served_at].',
        },
      },
    },
    max_in_flight: {
      type: 'integer',
      minimum: 1,
      default: 64,
      description: 'Most copies outstanding at once; beyond it copies are dropped (counted), never queued.',
    },
  },
};

const trafficClass = {
  type: 'object',
  additionalProperties: false,
  required: ['cluster'],
  description: 'A traffic class: where its requests go and what share of the global cap it may use.',
  properties: {
    cluster: { type: 'string', description: 'Cluster this class is routed to.' },
    failover: {
      type: 'string',
      default: 'none',
      description: "Cluster used when a degrade rule with action: failover is open, or 'none' (never leaves its cluster).",
    },
    max_share: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 1,
      description: 'Admitted only while this class stays under max_share x limits.global.rate.',
    },
    split,
  },
};

const account = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'owner', 'team', 'scenario', 'class'],
  description: 'A registered caller account.',
  properties: {
    id: { type: 'string', pattern: ACCOUNT_ID_PATTERN, description: 'Sent by callers in x-caller-account.' },
    owner: { type: 'string', minLength: 1, description: 'Person responsible for this account.' },
    team: { type: 'string', minLength: 1, description: 'Team owning the calling service.' },
    scenario: { type: 'string', minLength: 1, description: 'What the account calls the member service for.' },
    class: { type: 'string', description: 'Traffic class of its requests.' },
    key_sha256: {
      type: 'string',
      pattern: SHA256_PATTERN,
      description: 'SHA-256 (hex) of the caller key sent in x-caller-key. Needed with callers.auth: key.',
    },
    quota: { ...rate, description: 'Fleet-wide rate for this account (smooth, not fixed windows).' },
    burst: {
      type: 'integer',
      minimum: 0,
      description:
        'Extra requests allowed at once above the quota. Default: a tenth of a second of the quota, at least 1 (300/s → 30). 0: strict spacing, two arrivals in the same instant are one too many.',
    },
    routes: {
      type: 'array',
      items: { type: 'string', pattern: ROUTE_PATTERN },
      description: "What the scenario needs: 'METHOD /path', * = one segment, ** = the rest. Absent = any route.",
    },
  },
};

const callers = {
  type: ['object', 'null'],
  additionalProperties: false,
  description: 'Who may call, and how they are identified.',
  properties: {
    auth: {
      enum: ['key', 'trust'],
      default: 'key',
      description: 'key: x-caller-key must match key_sha256 | trust: the x-caller-account header is trusted (mTLS mesh).',
    },
    unknown: {
      type: 'string',
      default: 'reject',
      description: "reject: 401 unknown_caller | a class name: unknown callers share one 'unknown' account of that class.",
    },
    unknown_quota: { ...rate, description: "Quota of the shared 'unknown' account; its burst is a tenth of a second of it, at least 1." },
    enforce_routes: {
      type: 'boolean',
      default: false,
      description: "true: calls outside an account's routes get 403 route_not_allowed; false: only counted.",
    },
    accounts: { type: ['array', 'null'], items: account, description: 'Registered caller accounts.' },
    identity: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: IDENTITY_SOURCE_PATTERN },
      default: ['header:x-client-app', 'ip'],
      description:
        'What names the calling service in the caller ledger, first present wins: header:NAME or ip. Never a metric label.',
    },
  },
};

const hotKey = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'key', 'rate'],
  description: 'Limit each distinct value of a request key.',
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN, description: 'Rule name (metrics label).' },
    key: {
      type: 'string',
      description: 'path:/TEMPLATE/{name} | query:NAME | header:NAME | ip (client address: anti-scraping).',
    },
    rate: { ...rate, description: 'Rate allowed per distinct key value.' },
    burst: {
      type: 'integer',
      minimum: 0,
      description:
        'Extra requests allowed at once per key value, for the rate and its overrides. Default: a tenth of a second of each rate, at least 1. 0: strict spacing.',
    },
    overrides: {
      type: 'object',
      additionalProperties: rate,
      description: 'Specific key values with their own rate, e.g. { "10086": 500/s }.',
    },
    track: {
      type: 'integer',
      minimum: 1,
      default: 100000,
      description: 'Most distinct key values held at once (bounded memory).',
    },
    shadow,
  },
};

const adaptiveLimit = {
  type: 'object',
  additionalProperties: false,
  required: ['cluster'],
  description: "A cluster's concurrency limit, learned from the latency it observes (SPEC §9).",
  properties: {
    cluster: { type: 'string', description: 'Cluster whose in-flight requests from this sidecar are limited.' },
    algorithm: {
      enum: ['gradient', 'aimd'],
      default: 'gradient',
      description: 'gradient: scale by tolerance x noload / sample (Netflix Gradient2 style) | aimd: add one, cut by a tenth.',
    },
    initial_limit: {
      type: 'integer',
      minimum: 1,
      default: 20,
      description: 'Limit before anything is learned; best at or below what the cluster serves without queueing.',
    },
    min_limit: { type: 'integer', minimum: 1, default: 4, description: 'The limit never falls below this.' },
    max_limit: { type: 'integer', minimum: 1, default: 1000, description: 'The limit never grows above this.' },
    tolerance: {
      type: 'number',
      minimum: 1,
      default: 2,
      description: 'Sampled latency may grow to tolerance x the no-load latency before the limit shrinks.',
    },
    reserve: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description: 'Share of the limit only the most important class may fill (the last class sharing the cluster gets 1 - reserve).',
    },
    shadow,
  },
};

const limits = {
  type: ['object', 'null'],
  additionalProperties: false,
  description: 'Global cap and hot-key limits.',
  properties: {
    global: {
      type: 'object',
      additionalProperties: false,
      required: ['rate'],
      description: 'Total admitted rate; classes are held to their max_share of it.',
      properties: {
        rate: { ...rate, description: 'Most requests admitted in total; a tenth of a second of it may arrive at once (each class ceiling likewise at its own rate).' },
        scope: {
          enum: ['fleet', 'instance'],
          default: 'fleet',
          description: 'fleet: shared by every sidecar through the store | instance: per sidecar.',
        },
        shadow,
      },
    },
    hot_keys: { type: ['array', 'null'], items: hotKey, description: 'Per-key-value limits.' },
    adaptive: {
      type: ['array', 'null'],
      items: adaptiveLimit,
      description: 'Adaptive concurrency limits, one per cluster: overload shed fast, lowest class first.',
    },
  },
};

const degradeRule = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'cluster', 'kind', 'threshold', 'action'],
  description: 'A circuit breaker on a cluster.',
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN, description: 'Rule name (metrics label).' },
    cluster: { type: 'string', description: 'Cluster watched.' },
    kind: {
      enum: ['rt', 'error_ratio', 'error_count'],
      description: 'rt: average response time | error_ratio: errors / calls | error_count: errors per window.',
    },
    threshold: {
      type: ['string', 'number'],
      description: 'rt: a duration (200ms) | error_ratio: 0..1 | error_count: a whole number.',
    },
    window: { ...duration, default: '1s', description: 'Statistics window.' },
    min_requests: {
      type: 'integer',
      minimum: 1,
      default: 10,
      description: 'No decision on fewer calls in a window.',
    },
    open_for: { ...duration, default: '10s', description: 'How long the breaker stays open before half-open probes.' },
    probes: {
      type: 'integer',
      minimum: 1,
      default: 3,
      description: 'Requests let through when half-open; all must succeed to close.',
    },
    action: {
      enum: ['failover', 'reject'],
      description: "failover: send to the class's failover cluster | reject: 503 circuit_open.",
    },
    shadow,
  },
  allOf: [
    {
      if: { type: 'object', required: ['kind'], properties: { kind: { const: 'rt' } } },
      then: { type: 'object', properties: { threshold: duration } },
    },
    {
      if: { type: 'object', required: ['kind'], properties: { kind: { const: 'error_ratio' } } },
      then: { type: 'object', properties: { threshold: { type: 'number', exclusiveMinimum: 0, maximum: 1 } } },
    },
    {
      if: { type: 'object', required: ['kind'], properties: { kind: { const: 'error_count' } } },
      then: { type: 'object', properties: { threshold: { type: 'integer', minimum: 1 } } },
    },
  ],
};


/** One chaos drill's keys, shared by the rules files and POST /admin/faults (which takes ttl instead of until). */
export const FAULT_PROPERTIES = {
  name: { type: 'string', pattern: NAME_PATTERN, description: 'Drill name: the fault label of sluice_faults_injected_total.' },
  cluster: { type: 'string', description: 'Only requests routed to this cluster (after switch and breakers).' },
  class: { type: 'string', description: 'Only requests of this traffic class.' },
  accounts: { type: 'array', minItems: 1, items: { type: 'string', pattern: ACCOUNT_ID_PATTERN }, description: 'Only requests of these caller accounts.' },
  header: { type: 'string', pattern: FAULT_HEADER_PATTERN, description: "Only requests carrying this header and value, e.g. 'x-sluice-drill: on'." },
  delay: { ...duration, description: 'Delay injected before forwarding; counts as upstream latency for breakers and adaptive limits.' },
  delay_percent: { type: 'number', minimum: 0, maximum: 100, default: 100, description: 'Share of the matching requests delayed, %.' },
  abort: { type: 'integer', minimum: 400, maximum: 599, description: 'Status answered instead of forwarding (reason fault_injected); counts as an upstream error.' },
  abort_percent: { type: 'number', minimum: 0, maximum: 100, default: 100, description: 'Share of the matching requests aborted, %.' },
} as const;

const faultRule = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  description: 'A chaos drill: delay or abort for the matching traffic. Filters are all optional.',
  properties: {
    ...FAULT_PROPERTIES,
    until: { type: 'string', pattern: ISO_TIME_PATTERN, description: 'End of the drill (ISO 8601, e.g. 2026-12-24T10:00:00Z): a forgotten drill ends by itself.' },
  },
};

const tracing = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['otlp'],
  description: 'OpenTelemetry spans, one per sampled request, exported over OTLP/HTTP (JSON). Off when absent. Read at start.',
  properties: {
    otlp: { type: 'string', pattern: OTLP_URL_PATTERN, description: 'OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces.' },
    sample: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.01,
      description: "Share of requests without a sampled parent that are traced; an incoming traceparent's sampled flag decides for its request.",
    },
    service_name: { type: 'string', minLength: 1, default: 'sluice', description: 'service.name of the spans.' },
  },
};

export const RULES_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'sluice rules',
  description:
    'Rules of the sluice sidecar. One file, or a directory whose *.yaml files are merged ' +
    '(a key defined in two files is an error).',
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { const: 1, description: 'Rules format version: 1.' },
    server,
    store,
    clusters: {
      type: ['object', 'null'],
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: cluster,
      description: 'Upstream clusters by name.',
    },
    classes: {
      type: ['object', 'null'],
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: trafficClass,
      description: 'Traffic classes, in priority order (first = most important).',
    },
    switch: {
      type: ['object', 'null'],
      propertyNames: { pattern: NAME_PATTERN },
      additionalProperties: { type: 'string' },
      description: 'Emergency re-pointing of clusters, e.g. { primary: backup }.',
    },
    callers,
    limits,
    degrade: { type: ['array', 'null'], items: degradeRule, description: 'Degradation rules (circuit breakers).' },
    faults: { type: ['array', 'null'], items: faultRule, description: 'Chaos drills: injected latency and errors (also POST /admin/faults).' },
    tracing,
    mirrors: { type: ['array', 'null'], items: mirror, description: 'Mirrored requests with answers compared.' },
  },
} as const;

/** rules/schema.json as written to disk. */
export function schemaJson(): string {
  return `${JSON.stringify(RULES_SCHEMA, null, 2)}\n`;
}
