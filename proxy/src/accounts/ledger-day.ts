// One account's ledger for one UTC day (SPEC §13), and the summary of a period of days that
// /admin/accounts serves and `sluice accounts report` reads. The Redis ledger answers the same
// summary shape, merged fleet-wide.
import { HyperLogLog } from './hyperloglog.ts';
import { NameCounts } from './name-counts.ts';
import type { CountedName } from './usage.ts';

/** Routes and identities held per day (the summary shows the top 20 and top 10). */
const MAX_NAMES = 100;
export const TOP_ROUTES = 20;
export const TOP_IDENTITIES = 10;

/** What a ledger flush hands over for one account: the changes since the previous flush. */
export interface LedgerDelta {
  readonly id: string;
  readonly registered: boolean;
  readonly requests: number;
  readonly offScenario: number;
  readonly rejections: readonly (readonly [string, number])[];
  readonly routes: readonly (readonly [string, number])[];
  readonly identities: readonly (readonly [string, number])[];
  /** Complete wall seconds (unix seconds) with their request counts. */
  readonly seconds: readonly (readonly [number, number])[];
  /** Wall ms of the earliest and latest request of the batch, or -1. */
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/**
 * Small for the usual account (one route, no rejections, one or a few identities): the rejection
 * Map is made on first use, routes and identities hold one name inline (name-counts.ts), and the
 * 2 KiB HyperLogLog exists only past 100 identities: with 10 000 accounts it was 20 MiB of heap.
 */
export class DayRecord {
  /** The UTC day number (dayNumber) this record is of. */
  readonly day: number;
  requests = 0;
  offScenario = 0;
  peak = 0;
  firstSeen = -1;
  lastSeen = -1;
  rejections: Map<string, number> | null = null;
  /** Up to MAX_NAMES routes; a full record keeps its names (the busiest come first). */
  readonly routes = new NameCounts(MAX_NAMES);
  /** Up to MAX_NAMES identities with their counts; while it holds every one, the exact count. */
  readonly identities = new NameCounts(MAX_NAMES);
  /** Made when an identity finds `identities` full: from then on it counts them (estimate). */
  hll: HyperLogLog | null = null;

  constructor(day: number) {
    this.day = day;
  }

  /** Adds a batch; `seconds` must already be those of this day. */
  add(delta: LedgerDelta, seconds: readonly (readonly [number, number])[]): void {
    this.requests += delta.requests;
    this.offScenario += delta.offScenario;
    for (const [, count] of seconds) if (count > this.peak) this.peak = count;
    if (delta.firstSeen >= 0 && (this.firstSeen < 0 || delta.firstSeen < this.firstSeen)) this.firstSeen = delta.firstSeen;
    if (delta.lastSeen > this.lastSeen) this.lastSeen = delta.lastSeen;
    if (delta.rejections.length > 0) {
      const rejections = (this.rejections ??= new Map());
      for (const [reason, n] of delta.rejections) rejections.set(reason, (rejections.get(reason) ?? 0) + n);
    }
    for (const [route, n] of delta.routes) this.routes.add(route, n);
    for (const [identity, n] of delta.identities) this.addIdentity(identity, n);
  }

  /** Distinct identities this day: exact up to MAX_NAMES, estimated beyond. */
  identityCount(): number {
    return this.hll !== null ? this.hll.count() : this.identities.size;
  }

  private addIdentity(identity: string, n: number): void {
    if (this.identities.add(identity, n)) return;
    if (this.hll === null) {
      this.hll = new HyperLogLog();
      for (const { name } of this.identities.counts()) this.hll.add(name);
    }
    this.hll.add(identity);
  }
}

/** Distinct identities over several days: a set of names while every day held all its names. */
class IdentityUnion {
  private readonly names = new Set<string>();
  private hll: HyperLogLog | null = null;

  add(record: DayRecord): void {
    if (record.hll !== null && this.hll === null) {
      this.hll = new HyperLogLog();
      for (const name of this.names) this.hll.add(name);
    }
    if (record.hll !== null) this.hll?.merge(record.hll);
    else {
      for (const { name } of record.identities.counts()) {
        if (this.hll !== null) this.hll.add(name);
        else this.names.add(name);
      }
    }
  }

  count(): number {
    return this.hll !== null ? this.hll.count() : this.names.size;
  }
}

export interface DaySummary {
  /** YYYY-MM-DD (UTC). */
  readonly day: string;
  readonly requests: number;
  readonly peak_rps: number;
  readonly identities: number;
}

/** A period of an account's ledger: what the report needs. */
export interface LedgerSummary {
  readonly days: number;
  readonly requests: number;
  readonly peak_rps: number;
  readonly rejections: Record<string, number>;
  readonly off_scenario: number;
  readonly routes: readonly CountedName[];
  /** Distinct identities over the whole period (exact up to 100 a day, else a HyperLogLog union). */
  readonly identities: number;
  readonly top_identities: readonly CountedName[];
  readonly first_seen: string | null;
  readonly last_seen: string | null;
  readonly per_day: readonly DaySummary[];
}

export const UTC_DAY_MS = 86_400_000;

export function dayNumber(wallMs: number): number {
  return Math.floor(wallMs / UTC_DAY_MS);
}

export function dayName(day: number): string {
  return new Date(day * UTC_DAY_MS).toISOString().slice(0, 10);
}

/** One day's figures, as either ledger reads them. */
export interface DayFigures {
  readonly requests: number;
  readonly offScenario: number;
  readonly peak: number;
  /** Wall ms, -1 when unknown. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Distinct identities that day. */
  readonly identities: number;
}

/**
 * Adds up the days of one ledger into its summary: the in-process and the Redis ledger read their
 * days differently and total them here. The counted maps are added to by the reader.
 */
export class SummaryTotals {
  readonly rejections = new Map<string, number>();
  readonly routes = new Map<string, number>();
  readonly identities = new Map<string, number>();
  private readonly perDay: DaySummary[] = [];
  private requests = 0;
  private offScenario = 0;
  private peak = 0;
  private first = -1;
  private last = -1;

  addDay(day: number, figures: DayFigures): void {
    this.requests += figures.requests;
    this.offScenario += figures.offScenario;
    if (figures.peak > this.peak) this.peak = figures.peak;
    if (figures.firstSeen >= 0 && (this.first < 0 || figures.firstSeen < this.first)) this.first = figures.firstSeen;
    if (figures.lastSeen > this.last) this.last = figures.lastSeen;
    this.perDay.push({ day: dayName(day), requests: figures.requests, peak_rps: figures.peak, identities: figures.identities });
  }

  /** `identities`: distinct identities over the whole period (the union, not the days' sum). */
  summary(days: number, identities: number): LedgerSummary {
    return {
      days,
      requests: this.requests,
      peak_rps: this.peak,
      rejections: Object.fromEntries(this.rejections),
      off_scenario: this.offScenario,
      routes: top(this.routes, TOP_ROUTES),
      identities,
      top_identities: top(this.identities, TOP_IDENTITIES),
      first_seen: this.first < 0 ? null : new Date(this.first).toISOString(),
      last_seen: this.last < 0 ? null : new Date(this.last).toISOString(),
      per_day: this.perDay,
    };
  }
}

export function addCount(map: Map<string, number>, name: string, count: number): void {
  map.set(name, (map.get(name) ?? 0) + count);
}

/** The summary of the given days' records (any of them may be missing). */
export function summarizeDays(records: readonly (readonly [number, DayRecord])[], days: number): LedgerSummary {
  const totals = new SummaryTotals();
  const union = new IdentityUnion();
  for (const [day, r] of records) {
    if (r.rejections !== null) for (const [k, n] of r.rejections) addCount(totals.rejections, k, n);
    for (const { name, n } of r.routes.counts()) addCount(totals.routes, name, n);
    for (const { name, n } of r.identities.counts()) addCount(totals.identities, name, n);
    union.add(r);
    totals.addDay(day, {
      requests: r.requests,
      offScenario: r.offScenario,
      peak: r.peak,
      firstSeen: r.firstSeen,
      lastSeen: r.lastSeen,
      identities: r.identityCount(),
    });
  }
  return totals.summary(days, union.count());
}

export function top(map: ReadonlyMap<string, number>, n: number): CountedName[] {
  const out: CountedName[] = [];
  for (const [name, count] of map) out.push({ name, count });
  out.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1));
  return out.slice(0, n);
}
