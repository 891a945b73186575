// Local leases of a shared GCRA bucket (Redis store). A sidecar that admits many takes of one
// bucket reserves the bucket's next few slots in one script call and spends them here, with no
// round trip and no promise per request; it asks for the next lease before this one runs out.
//
// Exact, not approximate: GCRA gives every admission a slot (the TAT it moved past), at most
// `tolerance` after its arrival and never before it, slots one interval apart; that is what
// bounds any span of t seconds to rate × t + burst + 1. Redis grants a lease's units slots that
// all conform at once (the last within the tolerance of Redis's now) and places the first at
// least `lifetime` ahead, so each unit stays spendable until its own slot; a unit is spent here
// only before its slot passes (the local copy of the slot times errs early: see grant). So every
// admission, leased or not, still has its own slot within [arrival, arrival + tolerance], and the
// fleet-wide bound holds exactly. What a lease costs: while held, its units and its lifetime are
// taken out of the tolerance other callers see, and a unit left unspent when its slot passes is
// lost (leases are sized to what this sidecar spends). Redis grants leases only within the first
// LEASE_TOLERANCE_SHARE of the tolerance, whatever the number of sidecars: the rest of the burst
// is always there for bunches of takes, and a bucket that busy (a saturated quota) is taken one
// take at a time, exactly as without leases.

/** Leases, of every sidecar together, hold at most this share of a bucket's tolerance ahead. */
export const LEASE_TOLERANCE_SHARE = 0.25;

/** Longest a lease's units stay spendable, ms: a lease covers about this much of a sidecar's takes. */
export const LEASE_LIFETIME_MS = 10;

/** A lease shorter-lived than this is not worth asking for, ms: the renewal would not come back in time. */
const MIN_LIFETIME_MS = 0.5;

/** Fewer units than this are not worth a lease: the takes go to Redis one by one. */
export const MIN_LEASE_UNITS = 4;

/** Window over which a bucket list's admission rate is measured to size its leases, ms. */
export const LEASE_RATE_WINDOW_MS = 50;

/** Units of one bucket reserved in Redis and spent locally; one per bucket of a prepared call. */
export class BucketLease {
  readonly key: string;
  /** Interval and the leases' share of the tolerance, as the script takes them. */
  readonly intervalArg: string;
  readonly toleranceArg: string;
  readonly interval: number;
  /** How far ahead Redis places the first unit, ms. */
  readonly lifetime: number;
  readonly lifetimeArg: string;
  /** Most units one lease may hold: the lease's lead stays within its share of the tolerance. */
  readonly maxUnits: number;
  /** Units asked for in the request in flight; 0 when none is. */
  asked = 0;
  // The segment being spent: units [used, count), unit j's slot at base + j × interval (local ms).
  private base = 0;
  private count = 0;
  private used = 0;
  // A grant that came back while the current segment still had units.
  private nextBase = 0;
  private nextCount = 0;

  constructor(key: string, interval: number, tolerance: number, lifetime: number) {
    this.key = key;
    this.interval = interval;
    this.intervalArg = String(interval);
    const share = tolerance * LEASE_TOLERANCE_SHARE;
    this.toleranceArg = String(share);
    this.lifetime = lifetime;
    this.lifetimeArg = String(lifetime);
    this.maxUnits = Math.floor((share - lifetime) / interval);
  }

  /** True when a unit may be spent at `now`; units whose slot has passed are dropped first. */
  ready(now: number): boolean {
    if (this.live(now)) return true;
    if (this.nextCount === 0) return false;
    this.base = this.nextBase;
    this.count = this.nextCount;
    this.used = 0;
    this.nextCount = 0;
    return this.live(now);
  }

  /** Spends one unit; call only right after `ready` answered true. */
  spend(): void {
    this.used++;
  }

  /**
   * Units to ask for now, or 0: a lease holds what `ratePerMs` admits over its lifetime, and the
   * next is asked for while what is left still covers two round trips, so takes stay local
   * through a slow answer.
   */
  due(now: number, ratePerMs: number, roundTripMs: number): number {
    if (this.asked > 0) return 0;
    const units = Math.floor(ratePerMs * this.lifetime);
    const want = units < this.maxUnits ? units : this.maxUnits;
    if (want < MIN_LEASE_UNITS) return 0;
    const reserveMs = 2 * roundTripMs;
    const reserve = ratePerMs * reserveMs;
    return this.low(now, Math.max(reserve, want / 2), Math.max(reserveMs, this.lifetime / 2)) ? want : 0;
  }

  /**
   * Whether to ask for the next lease now: fewer than `units` left, or the last of them passing
   * within `ms` (what the takes of a round trip to Redis would need, with room to spare).
   */
  low(now: number, units: number, ms: number): boolean {
    if (this.nextCount > 0) return false;
    if (this.count - this.used <= units) return true;
    return this.base + (this.count - 1) * this.interval - now < ms;
  }

  /**
   * A grant of `count` units whose first slot is `leadMs` after Redis's now when it ran the script.
   * `sentAt` is when the batch left: Redis's now was later, so slot times worked out from it are
   * early, which only ever makes a unit expire here sooner than it does in Redis.
   */
  grant(sentAt: number, leadMs: number, count: number): void {
    const base = sentAt + leadMs;
    if (this.used >= this.count) {
      this.base = base;
      this.count = count;
      this.used = 0;
    } else {
      this.nextBase = base;
      this.nextCount = count;
    }
  }

  private live(now: number): boolean {
    if (this.used >= this.count) return false;
    // Unit j is spendable while its slot, base + j × interval, has not passed.
    const firstLive = (now - this.base) / this.interval;
    if (firstLive > this.used) this.used = Math.ceil(firstLive);
    return this.used < this.count;
  }
}

/** What a lease needs of a bucket's GCRA spec, ms. */
export interface LeasedSpec {
  readonly interval: number;
  readonly tolerance: number;
}

/** A lease per bucket (`keys[i]` in Redis), or null when some bucket's tolerance is too small to hold one. */
export function bucketLeases(keys: readonly string[], specs: readonly LeasedSpec[]): BucketLease[] | null {
  const leases: BucketLease[] = [];
  for (let i = 0; i < keys.length; i++) {
    // Most of the budget goes to the lifetime: units that outlive the renewal's round trip keep
    // takes local; the units themselves are few (what one lifetime spends).
    const { interval, tolerance } = specs[i];
    const budget = tolerance * LEASE_TOLERANCE_SHARE;
    const lifetime = Math.min(LEASE_LIFETIME_MS, budget * 0.9);
    if (!(lifetime >= MIN_LIFETIME_MS)) return null;
    const lease = new BucketLease(keys[i], interval, tolerance, lifetime);
    if (lease.maxUnits < MIN_LEASE_UNITS) return null;
    leases.push(lease);
  }
  return leases.length === 0 ? null : leases;
}

/** True when every lease has a unit at `now`; then one unit of each is spent (all or none). */
export function spendLeased(leases: readonly BucketLease[], now: number): boolean {
  for (let i = 0; i < leases.length; i++) if (!leases[i].ready(now)) return false;
  for (let i = 0; i < leases.length; i++) leases[i].spend();
  return true;
}
