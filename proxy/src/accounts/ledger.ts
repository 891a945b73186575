// The caller ledger (SPEC §13): who really calls with each account, per UTC day. The request path
// only bumps the account's usage counters and pending identities (usage.ts); once a second,
// off the request path, the ledger takes the differences since its last pass, adds them to the
// in-process day records and hands them to the fleet sink (Redis) when there is one. A sink
// that fails loses that second's batch, never a request.
import type { GaugeEmit, ScrapedGauge } from '../hot-metrics.ts';
import { DayRecord, dayNumber, summarizeDays, type LedgerDelta, type LedgerSummary } from './ledger-day.ts';
import { NameCounts, type NamedCount } from './name-counts.ts';
import { USAGE_RING_SECONDS, type AccountUsage, type UsageRegistry } from './usage.ts';

/** Days kept in-process (the report's default period is 7). */
const MEMORY_DAYS = 8;
const FLUSH_MS = 1000;

/** Where batches go fleet-wide. Answers per account the fleet's distinct identities today, when known. */
export interface LedgerSink {
  write(batch: readonly LedgerDelta[], wallMs: number): Promise<ReadonlyMap<string, number>>;
  close(): Promise<void>;
}

/** What the last pass took from one account's usage counters. */
class Cursor {
  requests = 0;
  offScenario = 0;
  rejectionCount = 0;
  /** Last wall second whose count was handed over. */
  second: number;
  lastSeen = -1;
  /** Rejection totals taken so far, made on first use (most accounts are never refused). */
  rejections: Map<string, number> | null = null;
  /** Route totals taken so far (the usage holds at most as many routes). */
  readonly routes = new NameCounts(Number.POSITIVE_INFINITY);
  constructor(second: number) {
    this.second = second;
  }
}

/**
 * One account's kept days. A short list, not a Map: a fresh account has one day, and with
 * 10 000 accounts a Map each was ~4 MiB of heap.
 */
class AccountDays {
  /** Oldest first; starts as a one-element array (a push onto an empty one reserves 17 slots). */
  private records: DayRecord[] | null = null;
  /** The fleet's distinct identities on `fleetDay`, as the sink last answered. */
  fleetIdentities = 0;
  fleetDay = -1;

  get size(): number {
    return this.records === null ? 0 : this.records.length;
  }

  /** The record of `day`, if kept. */
  get(day: number): DayRecord | undefined {
    const records = this.records;
    if (records === null) return undefined;
    for (let i = records.length - 1; i >= 0; i--) if (records[i].day === day) return records[i];
    return undefined;
  }

  /** The record of `day`, made when missing (and days past the retention dropped). */
  day(day: number): DayRecord {
    let record = this.get(day);
    if (record === undefined) {
      record = new DayRecord(day);
      if (this.records === null) this.records = [record];
      else this.records.push(record);
      this.prune(day);
    }
    return record;
  }

  /** Drops the days past the in-process retention, seen from `today`. */
  prune(today: number): void {
    const records = this.records;
    if (records === null) return;
    // A new array only when a day goes: this runs for every account once a minute.
    const cutoff = today - MEMORY_DAYS;
    let stale = false;
    for (let i = 0; i < records.length && !stale; i++) stale = records[i].day <= cutoff;
    if (stale) this.records = records.filter((r) => r.day > cutoff);
  }
}

export interface LedgerOptions {
  readonly sink?: LedgerSink | null;
  /** sluice_account_identities{account}: read from this ledger at scrape time. */
  readonly identitiesGauge?: ScrapedGauge;
  readonly onSinkError?: (error: unknown) => void;
}

export class Ledger {
  private readonly usage: UsageRegistry;
  private readonly sink: LedgerSink | null;
  private readonly onSinkError: (error: unknown) => void;
  private readonly cursors = new WeakMap<AccountUsage, Cursor>();
  private readonly registered = new Map<string, AccountDays>();
  private readonly unregistered = new Map<string, AccountDays>();
  private timer: NodeJS.Timeout | null = null;
  private passes = 0;
  private sending: Promise<unknown> = Promise.resolve();
  /** Batches the sink failed to take (lost, by design). */
  droppedBatches = 0;

  constructor(usage: UsageRegistry, options: LedgerOptions = {}) {
    this.usage = usage;
    this.sink = options.sink ?? null;
    this.onSinkError = options.onSinkError ?? (() => {});
    options.identitiesGauge?.readFrom((emit) => this.identitiesToday(emit));
  }

  get fleet(): boolean {
    return this.sink !== null;
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Takes what the accounts' counters gained since the last pass; one sink write for all. */
  flush(): void {
    const wall = this.usage.clock.now() + this.usage.wallOffsetMs;
    const current = Math.floor(wall / 1000);
    // Kept only for a sink. Held through the whole pass, a batch of 10 000 accounts outlives a
    // scavenge and is promoted: ~6 MB of old-space garbage a second that the in-process ledger
    // has no use for.
    const batch: LedgerDelta[] | null = this.sink === null ? null : [];
    for (const usage of this.usage.all()) this.take(usage, true, current, wall, batch);
    for (const usage of this.usage.unregisteredAll()) this.take(usage, false, current, wall, batch);
    if (++this.passes % 60 === 0) this.prune(dayNumber(wall));
    const sink = this.sink;
    if (sink === null || batch === null || batch.length === 0) return;
    const day = dayNumber(wall);
    // One write in flight at a time: a slow Redis costs batches, never a pile of writes.
    this.sending = this.sending.then(() =>
      sink.write(batch, wall).then(
        (fleet) => {
          for (const [id, n] of fleet) {
            const days = this.registered.get(id);
            if (days === undefined) continue;
            days.fleetIdentities = n;
            days.fleetDay = day;
          }
        },
        (error: unknown) => {
          this.droppedBatches++;
          this.onSinkError(error);
        },
      ),
    );
  }

  /** The ledger of `id` over the last `days` UTC days (today included). */
  summary(id: string, days: number, registered = true): LedgerSummary {
    const account = (registered ? this.registered : this.unregistered).get(id);
    const today = dayNumber(this.usage.clock.now() + this.usage.wallOffsetMs);
    const records: [number, DayRecord][] = [];
    for (let d = today - Math.max(1, days) + 1; d <= today; d++) {
      const r = account?.get(d);
      if (r !== undefined) records.push([d, r]);
    }
    return summarizeDays(records, days);
  }

  /** Names unregistered callers sent that the ledger holds, in the order first seen. */
  unregisteredNames(): string[] {
    return [...this.unregistered.keys()];
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.flush();
    await this.sending;
    await this.sink?.close();
  }

  private take(usage: AccountUsage, registered: boolean, current: number, wall: number, batch: LedgerDelta[] | null): void {
    const delta = this.deltaOf(usage, registered, current, wall);
    if (delta === null) return;
    batch?.push(delta);
    this.addToDays(delta, wall);
  }

  /** What `usage` gained since the last pass (complete seconds only), or null when nothing. */
  private deltaOf(usage: AccountUsage, registered: boolean, current: number, wall: number): LedgerDelta | null {
    let cursor = this.cursors.get(usage);
    if (cursor === undefined) {
      cursor = new Cursor(current - 1 - USAGE_RING_SECONDS);
      this.cursors.set(usage, cursor);
    }
    const from = Math.max(cursor.second + 1, current - USAGE_RING_SECONDS);
    cursor.second = current - 1;
    // Idle since the last pass (the usual case for most accounts): nothing to take, nothing made.
    // A second still open at the last pass is taken now, so a request seen then still counts.
    if (
      usage.requests === cursor.requests &&
      usage.rejectionCount === cursor.rejectionCount &&
      usage.pendingIdentities.size === 0 &&
      (usage.lastSeen < 0 || Math.floor((usage.lastSeen + this.usage.wallOffsetMs) / 1000) < from)
    ) {
      return null;
    }
    const seconds: [number, number][] = [];
    for (let s = from; s < current; s++) {
      const n = usage.countAt(s);
      if (n > 0) seconds.push([s, n]);
    }
    const requests = usage.requests - cursor.requests;
    const offScenario = usage.offScenario - cursor.offScenario;
    const rejections = usage.rejectionCount === cursor.rejectionCount ? NONE : differences(usage.rejectionTotals(), (cursor.rejections ??= new Map()));
    const routes = routeDifferences(usage.routeTotals(), cursor);
    const identities = usage.pendingIdentities.size === 0 ? NONE : pairs(usage.pendingIdentities.counts());
    usage.pendingIdentities.clear();
    cursor.requests = usage.requests;
    cursor.offScenario = usage.offScenario;
    cursor.rejectionCount = usage.rejectionCount;
    if (requests === 0 && rejections.length === 0 && identities.length === 0 && seconds.length === 0) return null;
    // Last seen: the latest request not handed over yet, else (a bad key, say) the pass itself.
    const lastSeenWall = usage.lastSeen < 0 ? -1 : usage.lastSeen + this.usage.wallOffsetMs;
    const lastSeen = lastSeenWall > cursor.lastSeen ? lastSeenWall : wall;
    if (lastSeenWall > cursor.lastSeen) cursor.lastSeen = lastSeenWall;
    // First seen, to the second: the first busy second of the batch, or its last request.
    const firstSeen = seconds.length > 0 ? Math.min(seconds[0][0] * 1000, lastSeen) : lastSeen;
    return { id: usage.id, registered, requests, offScenario, rejections, routes, identities, seconds, firstSeen, lastSeen };
  }

  /** Adds a batch to the in-process days: its seconds on their own day, the rest on the pass's. */
  private addToDays(delta: LedgerDelta, wall: number): void {
    const table = delta.registered ? this.registered : this.unregistered;
    let days = table.get(delta.id);
    if (days === undefined) {
      days = new AccountDays();
      table.set(delta.id, days);
    }
    const today = dayNumber(wall);
    const last = delta.seconds.at(-1);
    if (last === undefined || (dayNumber(last[0] * 1000) === today && dayNumber(delta.seconds[0][0] * 1000) === today)) {
      days.day(today).add(delta, delta.seconds);
      return;
    }
    // A batch across midnight: rare, so the split may allocate.
    const earlier = delta.seconds.filter(([s]) => dayNumber(s * 1000) !== today);
    days.day(today).add(delta, delta.seconds.filter(([s]) => dayNumber(s * 1000) === today));
    for (const [s, n] of earlier) {
      days.day(dayNumber(s * 1000)).add({ ...delta, requests: 0, offScenario: 0, rejections: NONE, routes: NONE, identities: NONE }, [[s, n]]);
    }
  }

  /** Forgets accounts and names whose every kept day is past the in-process retention. */
  private prune(today: number): void {
    for (const table of [this.registered, this.unregistered]) {
      for (const [id, account] of table) {
        account.prune(today);
        if (account.size === 0) table.delete(id);
      }
    }
  }

  /**
   * sluice_account_identities: a series per registered account (the shared unknown one included),
   * today's count, fleet-wide when the sink has answered for today. Accounts no longer registered
   * drop out with their usage.
   */
  private identitiesToday(emit: GaugeEmit): void {
    const today = dayNumber(this.usage.clock.now() + this.usage.wallOffsetMs);
    for (const usage of this.usage.all()) {
      const days = this.registered.get(usage.id);
      const local = days?.get(today)?.identityCount() ?? 0;
      const fleet = days !== undefined && days.fleetDay === today ? days.fleetIdentities : 0;
      emit(Math.max(local, fleet), usage.id);
    }
  }
}

/** Nothing changed: shared, so an account with only new requests allocates no lists. */
const NONE: readonly [] = Object.freeze([]) as readonly [];

/** What `totals` gained over `taken`; `taken` is brought up to date. */
function differences(totals: ReadonlyMap<string, number>, taken: Map<string, number>): [string, number][] {
  const out: [string, number][] = [];
  for (const [name, total] of totals) {
    const before = taken.get(name) ?? 0;
    if (total > before) {
      out.push([name, total - before]);
      taken.set(name, total);
    }
  }
  return out;
}

/** The same for the route counts, read in place (no copy of the totals per pass). */
function routeDifferences(totals: Iterable<NamedCount>, cursor: Cursor): readonly (readonly [string, number])[] {
  let out: [string, number][] | null = null;
  for (const { name, n } of totals) {
    const gained = n - cursor.routes.get(name);
    if (gained > 0) {
      (out ??= []).push([name, gained]);
      cursor.routes.add(name, gained);
    }
  }
  return out ?? NONE;
}

function pairs(counts: Iterable<NamedCount>): [string, number][] {
  const out: [string, number][] = [];
  for (const { name, n } of counts) out.push([name, n]);
  return out;
}
