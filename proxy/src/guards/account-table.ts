// Caller accounts compiled once per rules load: key hash as bytes, quota bucket, route matcher,
// usage record and metric children. The caller guard puts one of these in ctx.account; the later
// guards read it back from there.
import type { CounterSeries } from '../hot-metrics.ts';
import { UNKNOWN_ACCOUNT, type AccountUsage, type UsageRegistry } from '../accounts/usage.ts';
import type { Metrics } from '../metrics.ts';
import type { LimitInfo, Reason } from '../reasons.ts';
import type { Rate, Rules } from '../rules/types.ts';
import type { StateRegistry } from '../state-registry.ts';
import type { ClassTable, CompiledClass } from '../compiled-class.ts';
import { KeyHashes } from './key-hashes.ts';
import type { RequestChild, RequestChildren } from '../request-counters.ts';
import { bucketSpec, type BucketSpec } from '../store/store.ts';
import type { CompiledAccountRef, RequestContext } from './guard.ts';
import { compileRoutes, type RouteMatcher } from './route-matcher.ts';

type AccountCounter = CounterSeries;

export class CompiledAccount implements CompiledAccountRef, RequestChildren {
  readonly id: string;
  readonly className: string;
  /** A key is registered (key_sha256). */
  readonly hasKey: boolean;
  /** The last key presented that hashed right (see keyMatches in caller.ts); null until one did. */
  verifiedKey: string | null = null;
  /** The quota bucket as the one-element list store.take wants, or null without a quota. */
  readonly quota: readonly BucketSpec[] | null;
  readonly quotaLimit: LimitInfo | null;
  /** null: any route. */
  readonly routes: RouteMatcher | null;
  readonly usage: AccountUsage;
  /** The account's class compiled once for this policy (see compiled-class.ts); null when none was given. */
  readonly klass: CompiledClass | null;
  /**
   * sluice_requests_total children of this account, kept by the policy's RequestCounters: reached
   * from ctx.account, counting an answer skips the lookup by account id.
   */
  requestChildren: RequestChild | null = null;
  private readonly metrics: Metrics;
  private readonly keyHashes: KeyHashes | null;
  private readonly keyOffset: number;
  // Made on the first refusal of the account: most accounts never have one, and with 10 000
  // accounts two empty Maps each were ~4 MiB of heap.
  private rejections: Map<Reason, AccountCounter> | null = null;
  private shadows: Map<Reason, AccountCounter> | null = null;
  private offScenarioChild: CounterSeries | null = null;

  constructor(init: {
    id: string;
    className: string;
    /** The load's key hashes and this account's offset among them; null when it has no key. */
    keyHash: { readonly hashes: KeyHashes; readonly offset: number } | null;
    quota: readonly BucketSpec[] | null;
    quotaLimit: LimitInfo | null;
    routes: RouteMatcher | null;
    usage: AccountUsage;
    metrics: Metrics;
    klass?: CompiledClass | null;
  }) {
    this.id = init.id;
    this.className = init.className;
    this.hasKey = init.keyHash !== null;
    this.keyHashes = init.keyHash?.hashes ?? null;
    this.keyOffset = init.keyHash?.offset ?? 0;
    this.quota = init.quota;
    this.quotaLimit = init.quotaLimit;
    this.routes = init.routes;
    this.usage = init.usage;
    this.klass = init.klass ?? null;
    this.metrics = init.metrics;
  }

  // Metric children are resolved on the first event of each kind and kept: with thousands of
  // accounts, making every account × reason series up front would export mostly zeros.

  /** Whether `digest` is the SHA-256 registered as the account's key (constant time). */
  keyHashIs(digest: Buffer): boolean {
    return this.keyHashes !== null && this.keyHashes.equals(this.keyOffset, digest);
  }

  /** sluice_rejections_total and the usage profile. */
  countRejection(reason: Reason): void {
    this.rejections ??= new Map();
    let child = this.rejections.get(reason);
    if (child === undefined) {
      child = this.metrics.rejections.labels(this.id, this.className, reason);
      this.rejections.set(reason, child);
    }
    child.inc();
    this.usage.rejected(reason);
  }

  /** sluice_shadow_rejections_total: a shadow rule would have refused. */
  countShadow(reason: Reason): void {
    this.shadows ??= new Map();
    let child = this.shadows.get(reason);
    if (child === undefined) {
      child = this.metrics.shadowRejections.labels(this.id, this.className, reason);
      this.shadows.set(reason, child);
    }
    child.inc();
  }

  countOffScenario(): void {
    if (this.offScenarioChild === null) this.offScenarioChild = this.metrics.offScenario.labels(this.id);
    this.offScenarioChild.inc();
    this.usage.offScenario++;
  }
}

export interface AccountTable {
  readonly byId: ReadonlyMap<string, CompiledAccount>;
  /** The shared account of unknown callers, or null when they are refused. */
  readonly unknown: CompiledAccount | null;
  /** Some account has routes (so the routes guard has work). */
  readonly anyRoutes: boolean;
  /** Some account has a quota. */
  readonly anyQuota: boolean;
  /** Usage of every account, and of the names unregistered callers sent. */
  readonly usage: UsageRegistry;
}

export interface AccountTableDeps {
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
  readonly usage: UsageRegistry;
  /** The policy's compiled classes, hung on each account. */
  readonly classes?: ClassTable;
}

export function buildAccountTable(rules: Rules, deps: AccountTableDeps): AccountTable {
  const callers = rules.callers;
  deps.usage.define(callers);
  const byId = new Map<string, CompiledAccount>();
  let anyRoutes = false;
  let anyQuota = false;
  // Accounts with the same routes (or the same quota rate) share one matcher (one limit
  // description): with 10 000 accounts of a few scenarios, one compiled matcher per account was
  // ~10 MiB of heap for copies of a handful.
  const matchers = new Map<string, RouteMatcher>();
  const limits = new Map<string, LimitInfo>();
  const keyHashes = new KeyHashes(callers.accounts.reduce((n, a) => n + (a.keySha256 === null ? 0 : 1), 0));
  for (const a of callers.accounts) {
    let routes: RouteMatcher | null = null;
    if (a.routes !== null) {
      const key = a.routes.join('\n');
      routes = matchers.get(key) ?? null;
      if (routes === null) matchers.set(key, (routes = compileRoutes(a.routes)));
    }
    let quotaLimit: LimitInfo | null = null;
    if (a.quota !== null) {
      quotaLimit = limits.get(a.quota.text) ?? null;
      if (quotaLimit === null) limits.set(a.quota.text, (quotaLimit = limitInfo('account', a.quota)));
    }
    anyRoutes ||= routes !== null;
    anyQuota ||= a.quota !== null;
    byId.set(
      a.id,
      new CompiledAccount({
        id: a.id,
        className: a.class,
        keyHash: a.keySha256 === null ? null : { hashes: keyHashes, offset: keyHashes.add(a.keySha256, a.id) },
        quota: a.quota === null ? null : quotaBucket(deps.registry, a.id, a.quota, a.burst),
        quotaLimit,
        routes,
        usage: deps.usage.of(a.id),
        metrics: deps.metrics,
        klass: deps.classes?.get(a.class) ?? null,
      }),
    );
  }
  let unknown: CompiledAccount | null = null;
  if (callers.unknown !== 'reject') {
    const quota = callers.unknownQuota;
    anyQuota ||= quota !== null;
    unknown = new CompiledAccount({
      id: UNKNOWN_ACCOUNT,
      className: callers.unknown,
      keyHash: null,
      quota: quota === null ? null : quotaBucket(deps.registry, UNKNOWN_ACCOUNT, quota, callers.unknownBurst),
      quotaLimit: quota === null ? null : limitInfo('account', quota),
      routes: null,
      usage: deps.usage.of(UNKNOWN_ACCOUNT),
      metrics: deps.metrics,
      klass: deps.classes?.get(callers.unknown) ?? null,
    });
  }
  return { byId, unknown, anyRoutes, anyQuota, usage: deps.usage };
}

/**
 * The bucket of an account quota. Its key is its identity (`quota:ID:RATE:BURST`): an unchanged
 * quota keeps its counters over a reload, a changed one starts from a fresh bucket.
 */
export function quotaBucket(registry: StateRegistry, id: string, quota: Rate, burst: number): readonly BucketSpec[] {
  // Joined, not a template: a template's result is a chain of five cons strings (~160 bytes) kept
  // as the bucket's key for the account's life; join makes one flat string (~1 MiB less heap with
  // 10 000 accounts, in a heap snapshot of the loaded bench).
  const identity = ['quota', id, quota.perSecond, burst].join(':');
  return registry.get(identity, () => Object.freeze([bucketSpec(identity, quota.perSecond, burst)]));
}

/** RateLimit-Policy of a rate: q per second (w=1), or q per minute (w=60) for rates written N/min. */
export function limitInfo(policy: string, rate: Rate): LimitInfo {
  const perMinute = rate.text.trim().endsWith('/min');
  return Object.freeze({
    policy,
    quota: perMinute ? Math.round(rate.perSecond * 60) : Math.round(rate.perSecond * 1000) / 1000,
    windowSeconds: perMinute ? 60 : 1,
  });
}

/** The compiled account the caller guard identified, or null before identification. */
export function accountOf(ctx: RequestContext): CompiledAccount | null {
  const a = ctx.account;
  return a instanceof CompiledAccount ? a : null;
}
