// Per-key GCRA for one hot-key rule, in bounded memory: at most `track` key values are held.
//
// Which entry to drop when full: the one holding the least information. An entry says "this key
// may pass again at TAT"; one whose TAT has passed says nothing (same as absent) and goes first.
// Among the rest the oldest TAT goes, except that a key already refused at least once (known to
// be over its rate) ranks one horizon later, so a flood of one-off values cannot push a key that
// is over its rate out of the table, even with burst 0, where a hot key's TAT is no later than a
// fresh value's. The horizon H is the furthest any TAT can run ahead of now: (burst + 1) × interval
// for the slowest rate of the rule.
//
// O(1) per request: entries sit in a ring of time slots by that priority (slot width H/16, the
// ring spans 4H, twice the furthest priority ahead of now). A slot reused for a later time held
// only entries whose TAT has passed: they move, the whole list at once, to the idle list, where
// they stay in the table (a key that comes back finds its entry: no Map delete and insert for a
// busy working set of ids whose TATs pass between requests, ~0.7 µs a request) and are the
// first evicted when the table is full. Otherwise eviction scans a bounded number of slots from a
// low-water mark and drops the earliest of the lowest slot's oldest few. A slot is a list threaded
// through its entries: moving an entry between slots (every request does) writes four links,
// where a Set per slot deleted and re-added a table entry and rehashed its table every few
// thousand moves (~8 MB/s of old-space garbage at 15 000 req/s over 100 000 keys, and ~4 MB of
// live tables).
//
// Entries are 64-byte records in one ArrayBuffer, indexed by an entry number (hot-key-records.ts),
// and key values are found by KeyIndex from the request's own string: no object, no string and
// no Map slot per tracked key. 100 000 tracked keys take ~8.4 MB outside the heap (records and
// index), about what the columns, key strings and Map took inside it, but nothing the GC marks
// or moves. Freed numbers are reused, so a churn of distinct values allocates nothing.
import { CLOSED_RETRY_MS, gcraAdvance, gcraClosed, gcraFill, gcraRefund, gcraWait, type GcraSpec } from './gcra.ts';
import { HotKeyRecords, NONE } from './hot-key-records.ts';
import { KeyIndex, NO_ENTRY } from './key-index.ts';

const SLOTS = 64;
const SLOTS_PER_HORIZON = 16;
/** Entries of the lowest slot compared when evicting. */
const EVICTION_CANDIDATES = 4;

/** The entries of one time slot, oldest update first, linked through their records. */
class SlotList {
  head = NONE;
  tail = NONE;
  size = 0;

  append(r: HotKeyRecords, n: number): void {
    r.setPrev(n, this.tail);
    r.setNext(n, NONE);
    if (this.tail === NONE) this.head = n;
    else r.setNext(this.tail, n);
    this.tail = n;
    this.size++;
  }

  remove(r: HotKeyRecords, n: number): void {
    const prev = r.prev(n);
    const next = r.next(n);
    if (prev === NONE) this.head = next;
    else r.setNext(prev, next);
    if (next === NONE) this.tail = prev;
    else r.setPrev(next, prev);
    r.setPrev(n, NONE);
    r.setNext(n, NONE);
    this.size--;
  }

  clear(): void {
    this.head = NONE;
    this.tail = NONE;
    this.size = 0;
  }

  /** Moves every entry of `other` to the end of this list, at once. */
  takeAll(r: HotKeyRecords, other: SlotList): void {
    if (other.head === NONE) return;
    if (this.tail === NONE) this.head = other.head;
    else {
      r.setNext(this.tail, other.head);
      r.setPrev(other.head, this.tail);
    }
    this.tail = other.tail;
    this.size += other.size;
    other.clear();
  }
}

/** One tracked key as listed for /admin/hotkeys. */
export interface HotKeyView {
  readonly key: string;
  readonly perSecond: number;
  /** 0 idle .. 1 at its limit (see gcraFill). */
  readonly fill: number;
  /** True while the next request for this key would be refused. */
  readonly over: boolean;
  readonly retryAfterMs: number;
}

export interface HotKeyTableOptions {
  readonly name: string;
  readonly track: number;
  readonly rate: GcraSpec;
  /** Key values with their own rate. */
  readonly overrides?: ReadonlyMap<string, GcraSpec>;
}

export class HotKeyTable {
  readonly name: string;
  readonly track: number;
  readonly rate: GcraSpec;
  readonly overrides: ReadonlyMap<string, GcraSpec>;
  /** Furthest a TAT can lead now, ms; also the eviction boost of a refused key. */
  readonly horizon: number;
  private readonly width: number;
  /** Each entry's fields, key included (see hot-key-records.ts). */
  private readonly records: HotKeyRecords;
  /** Key value → entry number. */
  private readonly entries: KeyIndex;
  /** The rate (0), then each override's (i + 1): what an entry's record names as its spec. */
  private readonly specList: readonly GcraSpec[];
  /** Override values → their index in `specList`; null without overrides. */
  private readonly overrideIndex: KeyIndex | null;
  private readonly slots: SlotList[] = [];
  /**
   * Entries of reused slots: TAT passed, still held for the key's return, evicted first. An entry
   * is here when its slot is no longer its ring position's epoch (see listOf).
   */
  private readonly idle = new SlotList();
  private readonly epochs = new Float64Array(SLOTS).fill(Number.NaN);
  /** No slot below this index holds entries (eviction scans from here). */
  private low = Number.POSITIVE_INFINITY;
  /** Slot index of `now` at the last sweep of passed slots. */
  private sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: HotKeyTableOptions) {
    if (!(options.track >= 1)) throw new RangeError(`track must be at least 1, got ${options.track}`);
    this.name = options.name;
    this.track = Math.floor(options.track);
    this.rate = options.rate;
    this.overrides = options.overrides ?? new Map();
    // Closed specs (rate 0) hold no entries, so they do not stretch the horizon.
    let horizon = 0;
    for (const spec of [options.rate, ...this.overrides.values()]) {
      if (!gcraClosed(spec)) horizon = Math.max(horizon, spec.tolerance + spec.interval);
    }
    this.horizon = horizon > 0 ? horizon : 1000;
    this.width = horizon / SLOTS_PER_HORIZON;
    this.records = new HotKeyRecords(this.track);
    this.entries = new KeyIndex(this.records);
    for (let i = 0; i < SLOTS; i++) this.slots.push(new SlotList());
    this.specList = [this.rate, ...this.overrides.values()];
    this.overrideIndex = this.overrides.size === 0 ? null : overrideIndex(this.overrides);
  }

  /** Distinct key values held (idle ones, whose TAT has passed, included). */
  get size(): number {
    return this.entries.size;
  }

  specFor(key: string): GcraSpec {
    return this.specList[this.specIndex(key, 0, key.length)];
  }

  /**
   * One request for `key` (or its characters [start, end): a request's path or header, unsliced)
   * at `now`: 0 when admitted (and counted), else ms until it would be.
   */
  take(key: string, now: number, start = 0, end = key.length): number {
    const r = this.records;
    const h = this.entries.hash(key, start, end);
    const n = this.entries.find(key, start, end, h);
    if (n === NO_ENTRY) {
      // A first sighting conforms, unless its rate is 0.
      const specIndex = this.specIndex(key, start, end);
      const spec = this.specList[specIndex];
      if (gcraClosed(spec)) return CLOSED_RETRY_MS;
      if (this.entries.size >= this.track) this.evict(now);
      const fresh = r.claim();
      r.setSpec(fresh, specIndex);
      r.setTat(fresh, gcraAdvance(undefined, now, spec));
      r.setRefused(fresh, false);
      r.setSlot(fresh, NONE);
      this.entries.insert(key, start, end, h, fresh);
      this.place(fresh);
      return 0;
    }
    const spec = this.specList[r.spec(n)];
    const tat = r.tat(n);
    const wait = gcraWait(tat, now, spec);
    if (wait > 0) {
      if (!r.refused(n)) {
        r.setRefused(n, true);
        this.place(n);
      }
      return wait;
    }
    // A key refused within the last horizon is still known to run hot.
    if (tat <= now && r.refused(n) && now - tat >= this.horizon) r.setRefused(n, false);
    r.setTat(n, gcraAdvance(tat, now, spec));
    this.place(n);
    return 0;
  }

  /** 0 when a request for `key` at `now` would be admitted, else the wait; changes nothing. */
  peek(key: string, now: number): number {
    const n = this.entries.lookup(key);
    return n === NO_ENTRY ? gcraWait(undefined, now, this.specFor(key)) : gcraWait(this.records.tat(n), now, this.specList[this.records.spec(n)]);
  }

  /** Give back one request for `key` (or its characters [start, end)): a later check refused it. */
  give(key: string, now: number, start = 0, end = key.length): void {
    const n = this.entries.lookup(key, start, end);
    if (n === NO_ENTRY) return;
    this.records.setTat(n, gcraRefund(this.records.tat(n), now, this.specList[this.records.spec(n)]));
    this.place(n);
  }

  /** 0 for the rule's rate, i + 1 when the value is override i. */
  private specIndex(key: string, start: number, end: number): number {
    if (this.overrideIndex === null) return 0;
    const i = this.overrideIndex.lookup(key, start, end);
    return i === NO_ENTRY ? 0 : i;
  }

  /**
   * Keys whose fill is at least `ratio` (1 = at the limit), most loaded first, at most `limit`.
   * Scans from the latest slots down; control path only.
   */
  near(now: number, ratio: number, limit: number): HotKeyView[] {
    const r = this.records;
    const found: HotKeyView[] = [];
    const nowSlot = Math.floor(now / this.width);
    const cap = Math.max(limit, 1) * 4;
    for (let j = nowSlot + SLOTS - 1; j >= nowSlot && found.length < cap; j--) {
      const i = ringIndex(j);
      if (this.epochs[i] !== j) continue;
      for (let n = this.slots[i].head; n !== NONE; n = r.next(n)) {
        const spec = this.specList[r.spec(n)];
        const fill = gcraFill(r.tat(n), now, spec);
        if (fill === 0 || fill < ratio) continue;
        const wait = gcraWait(r.tat(n), now, spec);
        found.push({ key: this.entries.keyOf(n), perSecond: spec.perSecond, fill, over: wait > 0, retryAfterMs: wait });
      }
    }
    found.sort((a, b) => b.fill - a.fill || b.retryAfterMs - a.retryAfterMs);
    return found.length > limit ? found.slice(0, limit) : found;
  }

  /** Drop everything (the rule went away). */
  dispose(): void {
    this.entries.clear();
    for (const s of this.slots) s.clear();
    this.idle.clear();
    this.records.clear();
  }

  /**
   * Put entry `n` in the slot of its eviction priority. Re-inserted even within the same slot, so
   * a slot's iteration order follows the last update: its first entries are its oldest.
   */
  private place(n: number): void {
    const r = this.records;
    const slot = Math.floor(this.priority(n) / this.width);
    if (r.slot(n) !== NONE) this.listOf(n).remove(r, n);
    const i = ringIndex(slot);
    if (this.epochs[i] !== slot) {
      // Reused for a later time: whatever it held is long past (see the header), so dropped.
      this.drop(i);
      this.epochs[i] = slot;
    }
    this.slots[i].append(r, n);
    r.setSlot(n, slot);
    if (slot < this.low) this.low = slot;
  }

  /** The list entry `n` (held, so in one) is in: its slot's, or the idle list once that slot was reused. */
  private listOf(n: number): SlotList {
    const slot = this.records.slot(n);
    const i = ringIndex(slot);
    return this.epochs[i] === slot ? this.slots[i] : this.idle;
  }

  private evict(now: number): void {
    const r = this.records;
    const nowSlot = Math.floor(now / this.width);
    if (nowSlot > this.sweptAt) {
      // Slots wholly before now hold only passed TATs; at most once per slot width.
      this.sweptAt = nowSlot;
      for (let i = 0; i < SLOTS; i++) {
        if (this.slots[i].size > 0 && this.epochs[i] < nowSlot) this.drop(i);
      }
    }
    // An idle entry says nothing: the one idle longest goes first.
    const idle = this.idle.head;
    if (idle !== NONE) {
      this.idle.remove(r, idle);
      this.forget(idle);
      return;
    }
    // Every priority is at or after now (TATs only move forward of now), so no slot before
    // nowSlot holds anything after the sweep above.
    const start = this.low > nowSlot ? this.low : nowSlot;
    for (let j = start; j < start + SLOTS; j++) {
      const i = ringIndex(j);
      if (this.epochs[i] !== j) continue;
      const list = this.slots[i];
      if (list.size === 0) continue;
      this.low = j;
      // The oldest few of the lowest slot; the one with the earliest priority goes.
      let victim = NONE;
      let seen = 0;
      for (let n = list.head; n !== NONE && seen < EVICTION_CANDIDATES; n = r.next(n), seen++) {
        if (victim === NONE || this.priority(n) < this.priority(victim)) victim = n;
      }
      if (victim !== NONE) {
        list.remove(r, victim);
        this.forget(victim);
      }
      return;
    }
  }

  /**
   * A slot whose time has passed: its entries go to the idle list, at once. Its epoch is cleared,
   * so listOf finds them there (place() then gives the slot its new time).
   */
  private drop(i: number): void {
    this.idle.takeAll(this.records, this.slots[i]);
    this.epochs[i] = Number.NaN;
  }

  private forget(n: number): void {
    this.entries.remove(n);
    this.records.release(n);
  }

  /** Eviction priority of entry `n`: its TAT, one horizon later once it was refused. */
  private priority(n: number): number {
    const tat = this.records.tat(n);
    return this.records.refused(n) ? tat + this.horizon : tat;
  }
}

/** Override values → their place in specList (1 for the first: 0 is the rule's own rate). */
function overrideIndex(overrides: ReadonlyMap<string, GcraSpec>): KeyIndex {
  const index = new KeyIndex(new HotKeyRecords(overrides.size + 1));
  let i = 1;
  for (const value of overrides.keys()) index.insert(value, 0, value.length, index.hash(value, 0, value.length), i++);
  return index;
}

function ringIndex(slot: number): number {
  const i = slot % SLOTS;
  return i < 0 ? i + SLOTS : i;
}
