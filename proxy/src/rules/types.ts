// The validated, normalized rules: rates in requests per second, durations in milliseconds.
// Produced by rules/normalize.ts from a document that passed validation; read by the compiler.

export type StoreKind = 'memory' | 'redis' | 'redis-cluster';
export type DegradeKind = 'rt' | 'error_ratio' | 'error_count';
export type DegradeAction = 'failover' | 'reject';

/** A rate as written (`200/s`) and as a number of requests per second. */
export interface Rate {
  readonly text: string;
  readonly perSecond: number;
}

export interface ServerRules {
  readonly listen: string;
  readonly admin: string;
  readonly adminTokenEnv: string | null;
  /** /metrics answers without the admin token off loopback. */
  readonly metricsPublic: boolean;
  /** Longest wait for a request's complete headers, ms (408 after it). */
  readonly headersTimeoutMs: number;
  /** Most header fields in one request (431 beyond). */
  readonly maxHeaders: number;
}

export interface StoreRules {
  readonly kind: StoreKind;
  readonly url: string | null;
  readonly nodes: readonly string[];
  readonly onFailure: 'local' | 'reject';
  readonly instances: number;
}

export type BalanceKind = 'round_robin' | 'least_request';

/** Active health checks of a cluster's endpoints (SPEC §10). */
export interface HealthCheckRules {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Failed checks in a row that take an endpoint out of rotation. */
  readonly unhealthy: number;
  /** Good checks in a row that bring it back. */
  readonly healthy: number;
}

/** Retries of a failed exchange on another endpoint (SPEC §10). */
export interface RetryRules {
  /** Tries in all, the first one included. */
  readonly attempts: number;
  readonly onConnectFailure: boolean;
  readonly onReset: boolean;
  readonly onTimeout: boolean;
  /** Upstream statuses answered by a retry rather than relayed. */
  readonly statuses: readonly number[];
  /** Retries may add at most this share of the cluster's requests over the last 10 s. */
  readonly budget: number;
}

export interface ClusterRules {
  readonly name: string;
  readonly endpoints: readonly string[];
  readonly timeoutMs: number;
  readonly connections: number;
  readonly balance: BalanceKind;
  readonly healthCheck: HealthCheckRules | null;
  readonly retry: RetryRules | null;
}

export interface ClassRules {
  readonly name: string;
  /** Position in `classes`, 0 = most important. */
  readonly priority: number;
  readonly cluster: string;
  /** Cluster name, or null for `failover: none`. */
  readonly failover: string | null;
  readonly maxShare: number;
  /**
   * A share of the class's requests sent to another cluster, or null. Optional so rules built by
   * hand (tests, benches) need not name it; normalize always sets it.
   */
  readonly split?: SplitRules | null;
}

export interface SplitRules {
  readonly to: string;
  /** 0..100. */
  readonly percent: number;
  /** Hot-key syntax (`path:/members/{id}`, `query:NAME`, `header:NAME`, `ip`), or null for no stickiness. */
  readonly sticky: string | null;
}

export interface MirrorRules {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  /** 0..100. */
  readonly percent: number;
  readonly methods: readonly string[];
  /** JSON Pointer paths left out of the comparison. */
  readonly ignore: readonly string[];
  readonly maxInFlight: number;
}

export interface AccountRules {
  readonly id: string;
  readonly owner: string;
  readonly team: string;
  readonly scenario: string;
  readonly class: string;
  readonly keySha256: string | null;
  readonly quota: Rate | null;
  /** As written, or the default of rules/burst.ts (0 without a quota). */
  readonly burst: number;
  /** `METHOD /path` patterns; null = any route. */
  readonly routes: readonly string[] | null;
}

export interface CallerRules {
  readonly auth: 'key' | 'trust';
  /** 'reject' or the class name unknown callers share. */
  readonly unknown: string;
  readonly unknownQuota: Rate | null;
  /** Burst of `unknownQuota`: the default of rules/burst.ts. */
  readonly unknownBurst: number;
  readonly enforceRoutes: boolean;
  readonly accounts: readonly AccountRules[];
  /** Where the caller ledger reads the calling identity, first present wins. */
  readonly identity: readonly IdentitySource[];
}

/** A calling identity source: a request header (lower-cased name) or the client address. */
export type IdentitySource = { readonly kind: 'header'; readonly name: string } | { readonly kind: 'ip' };

export interface GlobalLimitRules {
  readonly rate: Rate;
  /** Burst of the total: the default of rules/burst.ts (class ceilings take it at their own rate). */
  readonly burst: number;
  readonly scope: 'fleet' | 'instance';
  readonly shadow: boolean;
}

export interface HotKeyRules {
  readonly name: string;
  /** As written: `path:/members/{id}`, `query:NAME`, `header:NAME` or `ip`. */
  readonly key: string;
  readonly rate: Rate;
  /** Burst of `rate`: as written, or the default of rules/burst.ts. */
  readonly burst: number;
  readonly overrides: ReadonlyMap<string, Rate>;
  /** Burst of each override: the rule's `burst` as written, or the default at the override's rate. */
  readonly overrideBursts: ReadonlyMap<string, number>;
  readonly track: number;
  readonly shadow: boolean;
}

export interface DegradeRules {
  readonly name: string;
  readonly cluster: string;
  readonly kind: DegradeKind;
  /** rt: milliseconds; error_ratio: 0..1; error_count: a count. */
  readonly threshold: number;
  readonly windowMs: number;
  readonly minRequests: number;
  readonly openForMs: number;
  readonly probes: number;
  readonly action: DegradeAction;
  readonly shadow: boolean;
}

/** `limits.adaptive[]`: one cluster's learned concurrency limit (SPEC §9). */
export interface AdaptiveRules {
  readonly cluster: string;
  readonly algorithm: 'gradient' | 'aimd';
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly tolerance: number;
  readonly reserve: number;
  readonly shadow: boolean;
}

/** A chaos drill (SPEC §11): delay or abort for the matching traffic, in the sidecar. */
export interface FaultRules {
  readonly name: string;
  /** Filters; null = any. */
  readonly cluster: string | null;
  readonly className: string | null;
  readonly accounts: readonly string[] | null;
  /** `header: "x-sluice-drill: on"`: lower-case name and exact value. */
  readonly header: { readonly name: string; readonly value: string } | null;
  /** Injected delay, ms (0: none), for `delayPercent` % of the matching requests. */
  readonly delayMs: number;
  readonly delayPercent: number;
  /** Status answered instead of forwarding (null: none), for `abortPercent` % of them. */
  readonly abortStatus: number | null;
  readonly abortPercent: number;
  /** Wall-clock end, ms since the epoch; null: until removed. */
  readonly until: number | null;
}

/** OpenTelemetry spans (SPEC §15); null when `tracing` is absent. */
export interface TracingRules {
  /** OTLP/HTTP traces endpoint. */
  readonly otlp: string;
  /** Ratio of root requests (no incoming sampled flag) traced, 0..1. */
  readonly sample: number;
  readonly serviceName: string;
}

export interface Rules {
  readonly server: ServerRules;
  readonly store: StoreRules;
  readonly clusters: ReadonlyMap<string, ClusterRules>;
  /** In priority order. */
  readonly classes: readonly ClassRules[];
  readonly switch: ReadonlyMap<string, string>;
  readonly callers: CallerRules;
  readonly limits: {
    readonly global: GlobalLimitRules | null;
    readonly hotKeys: readonly HotKeyRules[];
    readonly adaptive: readonly AdaptiveRules[];
  };
  readonly degrade: readonly DegradeRules[];
  readonly faults: readonly FaultRules[];
  readonly tracing: TracingRules | null;
  /** Optional for rules built by hand; normalize always sets it. */
  readonly mirrors?: readonly MirrorRules[];
}

/** What a load of the rules files produced. */
export type LoadResult =
  | { readonly ok: true; readonly rules: Rules; readonly files: readonly string[]; readonly hash: string }
  | { readonly ok: false; readonly errors: readonly string[]; readonly files: readonly string[] };
