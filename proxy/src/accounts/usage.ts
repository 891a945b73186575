// Live usage per caller account, for /admin/accounts: requests per second, rejections by reason,
// last seen, routes called (as templates), source addresses and off-scenario calls. Everything is
// bounded: a ring of per-second counters, at most `maxRoutes` templates and `maxSources`
// addresses per account (further distinct ones are only counted as overflow).
import { systemClock, type Clock } from '../clock.ts';
import type { AccountRules, CallerRules } from '../rules/types.ts';
import { NameCounts, type NamedCount } from './name-counts.ts';

const RING_SECONDS = 8;
/** How many past seconds countAt still knows: the ledger takes them at least this often. */
export const USAGE_RING_SECONDS = RING_SECONDS;
/** requests_per_second averages this many complete seconds. */
const RATE_SECONDS = 5;

export interface UsageOptions {
  readonly maxRoutes?: number;
  readonly maxSources?: number;
  /**
   * Added to the clock to get wall milliseconds (performance.timeOrigin for the system clock):
   * per-second counts then fall on wall seconds, which every sidecar of a fleet agrees on.
   */
  readonly wallOffsetMs?: number;
  /** Most distinct unregistered account names kept (further ones are only counted). */
  readonly maxUnregistered?: number;
}

/** An unregistered name not seen for this long may make room for a new one. */
const STALE_UNREGISTERED_MS = 86_400_000;

/** Most distinct identities held between two ledger flushes per account (about a second). */
const MAX_PENDING_IDENTITIES = 256;

export interface CountedName {
  readonly name: string;
  readonly count: number;
}

export interface UsageSnapshot {
  readonly requests_total: number;
  readonly requests_per_second: number;
  readonly last_seen: string | null;
  readonly rejections: Record<string, number>;
  readonly routes_called: readonly CountedName[];
  readonly routes_overflow: number;
  readonly sources: readonly CountedName[];
  readonly sources_overflow: number;
  readonly off_scenario: number;
}

export interface AccountSnapshot {
  readonly id: string;
  /** False for the shared 'unknown' account and accounts no longer in the rules. */
  readonly registered: boolean;
  readonly owner: string | null;
  readonly team: string | null;
  readonly scenario: string | null;
  readonly class: string | null;
  readonly quota: string | null;
  readonly burst: number;
  readonly routes: readonly string[] | null;
  readonly usage: UsageSnapshot;
}

const NO_REJECTIONS: ReadonlyMap<string, number> = new Map();

export class AccountUsage {
  readonly id: string;
  registration: AccountRules | null;
  /** Class and quota of an unregistered account (the shared unknown one), else null. */
  className: string | null;
  quotaText: string | null;
  quotaBurst: number;
  requests: number;
  offScenario: number;
  /** Clock ms of the last request, or -1. */
  lastSeen: number;
  // A plain array of small integers: a Float64Array was ~0.5 KiB of heap per account (the view,
  // its ArrayBuffer and a backing store) for 64 bytes of counts.
  private readonly ring: number[] = new Array<number>(RING_SECONDS).fill(0);
  private second = Number.NEGATIVE_INFINITY;
  /** Made on the first refusal: most accounts have none (an empty Map is ~0.2 KiB × 10 000 accounts). */
  private rejections: Map<string, number> | null = null;
  // Per-request counting: the name counted last is remembered, so a keep-alive connection (the
  // same address string) and a route matcher (the same pattern string) cost one pointer
  // comparison per request (with the get-then-set of plain numbers in Maps this was four hash
  // lookups per request: 24 ns → 6 ns for seen() + route() in a micro-benchmark).
  private readonly routes: NameCounts;
  private readonly sources: NameCounts;
  private routesOverflow = 0;
  private sourcesOverflow = 0;
  private readonly offsetMs: number;
  /** Identities seen since the ledger last took them, with their counts. */
  readonly pendingIdentities = new NameCounts(MAX_PENDING_IDENTITIES);
  /** Identities not held because the pending map was full. */
  identitiesDropped: number;
  /** Rejections of every reason since start (lets the ledger skip an idle account cheaply). */
  rejectionCount: number;

  constructor(id: string, maxRoutes: number, maxSources: number, offsetMs = 0) {
    this.id = id;
    this.registration = null;
    this.className = null;
    this.quotaText = null;
    this.quotaBurst = 0;
    this.requests = 0;
    this.offScenario = 0;
    this.lastSeen = -1;
    this.routes = new NameCounts(maxRoutes);
    this.sources = new NameCounts(maxSources);
    this.offsetMs = offsetMs;
    this.identitiesDropped = 0;
    this.rejectionCount = 0;
  }

  /** One request from `address` at clock time `now`. */
  seen(now: number, address: string): void {
    this.requests++;
    this.lastSeen = now;
    const second = Math.floor((now + this.offsetMs) / 1000);
    if (second !== this.second) this.advance(second);
    this.ring[second % RING_SECONDS]++;
    if (!this.sources.add(address)) this.sourcesOverflow++;
  }

  /** A call of `route` (a route pattern or a bounded call template). */
  route(route: string): void {
    if (!this.routes.add(route)) this.routesOverflow++;
  }

  rejected(reason: string): void {
    this.rejections ??= new Map();
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
    this.rejectionCount++;
  }

  /** The calling identity of the request just seen (for the ledger; '' when none was present). */
  identify(identity: string): void {
    if (identity !== '' && !this.pendingIdentities.add(identity)) this.identitiesDropped++;
  }

  /** Requests in the (wall) second `second`, while it is among the last few; else 0. */
  countAt(second: number): number {
    if (second > this.second || second <= this.second - RING_SECONDS) return 0;
    return this.ring[second % RING_SECONDS];
  }

  /** Rejection totals by reason since start (the ledger takes differences). */
  rejectionTotals(): ReadonlyMap<string, number> {
    return this.rejections ?? NO_REJECTIONS;
  }

  /** Route totals since start (bounded; the ledger takes differences). */
  routeTotals(): Iterable<NamedCount> {
    return this.routes.counts();
  }

  /** Mean requests per second over the last complete seconds. */
  requestsPerSecond(now: number): number {
    const current = Math.floor((now + this.offsetMs) / 1000);
    let sum = 0;
    for (let s = current - RATE_SECONDS; s < current; s++) {
      if (s > this.second || s <= this.second - RING_SECONDS) continue;
      sum += this.ring[s % RING_SECONDS];
    }
    return sum / RATE_SECONDS;
  }

  snapshot(now: number, wallNow: number): UsageSnapshot {
    return {
      requests_total: this.requests,
      requests_per_second: this.requestsPerSecond(now),
      last_seen: this.lastSeen < 0 ? null : new Date(wallNow - (now - this.lastSeen)).toISOString(),
      rejections: this.rejections === null ? {} : Object.fromEntries(this.rejections),
      routes_called: counted(this.routes),
      routes_overflow: this.routesOverflow,
      sources: counted(this.sources),
      sources_overflow: this.sourcesOverflow,
      off_scenario: this.offScenario,
    };
  }

  private advance(second: number): void {
    if (second > this.second) {
      const from = Math.max(this.second + 1, second - RING_SECONDS + 1);
      for (let s = from; s <= second; s++) this.ring[s % RING_SECONDS] = 0;
      this.second = second;
    }
  }
}

function counted(names: NameCounts): CountedName[] {
  const out: CountedName[] = [];
  for (const c of names.counts()) out.push({ name: c.name, count: c.n });
  out.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1));
  return out;
}

export const UNKNOWN_ACCOUNT = 'unknown';

/**
 * Usage of every account, kept across reloads (keyed by account id); `define` sets the
 * registrations from the rules in force.
 */
export class UsageRegistry {
  readonly clock: Clock;
  /** Clock + this = wall ms. */
  readonly wallOffsetMs: number;
  private readonly maxRoutes: number;
  private readonly maxSources: number;
  private readonly maxUnregistered: number;
  private readonly accounts = new Map<string, AccountUsage>();
  /** Callers that named an account the rules do not have, by the name they sent (bounded). */
  private readonly tried = new Map<string, AccountUsage>();
  /** Attempts under names not held because `tried` was full. */
  unregisteredOverflow = 0;
  private lastForget = Number.NEGATIVE_INFINITY;

  constructor(clock: Clock = systemClock, options: UsageOptions = {}) {
    this.clock = clock;
    this.maxRoutes = options.maxRoutes ?? 50;
    this.maxSources = options.maxSources ?? 20;
    this.maxUnregistered = options.maxUnregistered ?? 100;
    this.wallOffsetMs = options.wallOffsetMs ?? 0;
  }

  /**
   * The record of an unregistered name a caller sent ('' for none), made on its first attempt;
   * null once `maxUnregistered` names are held.
   */
  unregistered(name: string): AccountUsage | null {
    let usage = this.tried.get(name);
    if (usage === undefined) {
      if (this.tried.size >= this.maxUnregistered && !this.forgetStaleUnregistered()) {
        this.unregisteredOverflow++;
        return null;
      }
      usage = new AccountUsage(name, 10, 10, this.wallOffsetMs);
      this.tried.set(name, usage);
    }
    return usage;
  }

  /**
   * Makes room among the unregistered names by forgetting those not seen for a day (their ledger
   * days stay with the ledger). Looks at most once a second: a flood of made-up names costs a
   * map lookup each, not a scan.
   */
  private forgetStaleUnregistered(): boolean {
    const now = this.clock.now();
    if (now - this.lastForget < 1000) return false;
    this.lastForget = now;
    for (const [name, usage] of this.tried) if (now - usage.lastSeen > STALE_UNREGISTERED_MS) this.tried.delete(name);
    return this.tried.size < this.maxUnregistered;
  }

  /** Every account's usage, registered (and the shared unknown one) first. */
  all(): IterableIterator<AccountUsage> {
    return this.accounts.values();
  }

  unregisteredAll(): IterableIterator<AccountUsage> {
    return this.tried.values();
  }

  /** Registrations from the rules: accounts no longer registered are forgotten. */
  define(callers: CallerRules): void {
    const keep = new Set<string>();
    for (const account of callers.accounts) {
      const usage = this.of(account.id);
      usage.registration = account;
      usage.className = null;
      keep.add(account.id);
    }
    if (callers.unknown !== 'reject' && !keep.has(UNKNOWN_ACCOUNT)) {
      const usage = this.of(UNKNOWN_ACCOUNT);
      usage.registration = null;
      usage.className = callers.unknown;
      usage.quotaText = callers.unknownQuota?.text ?? null;
      usage.quotaBurst = callers.unknownBurst;
      keep.add(UNKNOWN_ACCOUNT);
    }
    for (const id of this.accounts.keys()) if (!keep.has(id)) this.accounts.delete(id);
    // A name registered since its attempts were recorded is no longer a stranger.
    for (const id of keep) this.tried.delete(id);
  }

  /** The usage of `id`, made on first use. */
  of(id: string): AccountUsage {
    let usage = this.accounts.get(id);
    if (usage === undefined) {
      usage = new AccountUsage(id, this.maxRoutes, this.maxSources, this.wallOffsetMs);
      this.accounts.set(id, usage);
    }
    return usage;
  }

  has(id: string): boolean {
    return this.accounts.has(id);
  }

  snapshot(): AccountSnapshot[] {
    const now = this.clock.now();
    const wall = Date.now();
    const out: AccountSnapshot[] = [];
    for (const usage of this.accounts.values()) out.push(describe(usage, now, wall));
    return out;
  }

  snapshotOf(id: string): AccountSnapshot | null {
    const usage = this.accounts.get(id);
    return usage === undefined ? null : describe(usage, this.clock.now(), Date.now());
  }
}

function describe(usage: AccountUsage, now: number, wall: number): AccountSnapshot {
  const r = usage.registration;
  return {
    id: usage.id,
    registered: r !== null,
    owner: r?.owner ?? null,
    team: r?.team ?? null,
    scenario: r?.scenario ?? null,
    class: r?.class ?? usage.className,
    quota: r === null ? usage.quotaText : (r.quota?.text ?? null),
    burst: r === null ? usage.quotaBurst : r.burst,
    routes: r?.routes ?? null,
    usage: usage.snapshot(now, wall),
  };
}
