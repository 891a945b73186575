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
// low-water mark and drops the earliest of the lowest slot's oldest few. Entry objects are
// recycled, so a churn of distinct values allocates nothing but the Map's own slots. A slot is a
// list threaded through its entries: moving an entry between slots (every request does) writes
// four pointers, where a Set per slot deleted and re-added a table entry and rehashed its table
// every few thousand moves (~8 MB/s of old-space garbage at 15 000 req/s over 100 000 keys, and
// ~4 MB of live tables).
import { CLOSED_RETRY_MS, gcraAdvance, gcraClosed, gcraFill, gcraRefund, gcraWait, type GcraSpec } from './gcra.ts';

const SLOTS = 64;
const SLOTS_PER_HORIZON = 16;
/** Entries of the lowest slot compared when evicting. */
const EVICTION_CANDIDATES = 4;

class Entry {
  key: string;
  tat: number;
  spec: GcraSpec;
  /** Refused at least once while tracked: ranks one horizon later for eviction. */
  refused: boolean;
  /** Time slot (absolute index) the entry sits in, or -1 when in none. */
  slot: number;
  /** Neighbours in the slot's list (older, newer). */
  prev: Entry | null;
  next: Entry | null;
  constructor(key: string, tat: number, spec: GcraSpec) {
    this.key = key;
    this.tat = tat;
    this.spec = spec;
    this.refused = false;
    this.slot = -1;
    this.prev = null;
    this.next = null;
  }
}

/** The entries of one time slot, oldest update first. */
class SlotList {
  head: Entry | null = null;
  tail: Entry | null = null;
  size = 0;

  append(e: Entry): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail === null) this.head = e;
    else this.tail.next = e;
    this.tail = e;
    this.size++;
  }

  remove(e: Entry): void {
    if (e.prev === null) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === null) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = null;
    e.next = null;
    this.size--;
  }

  clear(): void {
    this.head = null;
    this.tail = null;
    this.size = 0;
  }

  /** Moves every entry of `other` to the end of this list, at once. */
  takeAll(other: SlotList): void {
    if (other.head === null) return;
    if (this.tail === null) this.head = other.head;
    else {
      this.tail.next = other.head;
      other.head.prev = this.tail;
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
  private readonly entries = new Map<string, Entry>();
  private readonly slots: SlotList[] = [];
  /**
   * Entries of reused slots: TAT passed, still held for the key's return, evicted first. An entry
   * is here when its `slot` is no longer its ring position's epoch (see listOf).
   */
  private readonly idle = new SlotList();
  private readonly epochs = new Float64Array(SLOTS).fill(Number.NaN);
  private readonly spare: Entry[] = [];
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
    for (let i = 0; i < SLOTS; i++) this.slots.push(new SlotList());
  }

  /** Distinct key values held (idle ones, whose TAT has passed, included). */
  get size(): number {
    return this.entries.size;
  }

  specFor(key: string): GcraSpec {
    return this.overrides.size === 0 ? this.rate : (this.overrides.get(key) ?? this.rate);
  }

  /** One request for `key` at `now`: 0 when admitted (and counted), else ms until it would be. */
  take(key: string, now: number): number {
    const e = this.entries.get(key);
    if (e === undefined) {
      // A first sighting conforms, unless its rate is 0.
      const spec = this.specFor(key);
      if (gcraClosed(spec)) return CLOSED_RETRY_MS;
      if (this.entries.size >= this.track) this.evict(now);
      const fresh = this.spare.pop();
      const tat = gcraAdvance(undefined, now, spec);
      const entry = fresh === undefined ? new Entry(key, tat, spec) : fresh;
      if (fresh !== undefined) {
        entry.key = key;
        entry.tat = tat;
        entry.spec = spec;
        entry.refused = false;
        entry.slot = -1;
      }
      this.entries.set(key, entry);
      this.place(entry);
      return 0;
    }
    const wait = gcraWait(e.tat, now, e.spec);
    if (wait > 0) {
      if (!e.refused) {
        e.refused = true;
        this.place(e);
      }
      return wait;
    }
    // A key refused within the last horizon is still known to run hot.
    if (e.tat <= now) e.refused = e.refused && now - e.tat < this.horizon;
    e.tat = gcraAdvance(e.tat, now, e.spec);
    this.place(e);
    return 0;
  }

  /** 0 when a request for `key` at `now` would be admitted, else the wait; changes nothing. */
  peek(key: string, now: number): number {
    const e = this.entries.get(key);
    return e === undefined ? gcraWait(undefined, now, this.specFor(key)) : gcraWait(e.tat, now, e.spec);
  }

  /** Give back one request for `key` (a later check refused it). */
  give(key: string, now: number): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    e.tat = gcraRefund(e.tat, now, e.spec);
    this.place(e);
  }

  /**
   * Keys whose fill is at least `ratio` (1 = at the limit), most loaded first, at most `limit`.
   * Scans from the latest slots down; control path only.
   */
  near(now: number, ratio: number, limit: number): HotKeyView[] {
    const found: HotKeyView[] = [];
    const nowSlot = Math.floor(now / this.width);
    const cap = Math.max(limit, 1) * 4;
    for (let j = nowSlot + SLOTS - 1; j >= nowSlot && found.length < cap; j--) {
      const i = ringIndex(j);
      if (this.epochs[i] !== j) continue;
      for (let e = this.slots[i].head; e !== null; e = e.next) {
        const fill = gcraFill(e.tat, now, e.spec);
        if (fill === 0 || fill < ratio) continue;
        const wait = gcraWait(e.tat, now, e.spec);
        found.push({ key: e.key, perSecond: e.spec.perSecond, fill, over: wait > 0, retryAfterMs: wait });
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
    this.spare.length = 0;
  }

  /**
   * Put `e` in the slot of its eviction priority. Re-inserted even within the same slot, so a
   * slot's iteration order follows the last update: its first entries are its oldest.
   */
  private place(e: Entry): void {
    const slot = Math.floor((e.refused ? e.tat + this.horizon : e.tat) / this.width);
    if (e.slot !== -1) this.listOf(e).remove(e);
    const i = ringIndex(slot);
    if (this.epochs[i] !== slot) {
      // Reused for a later time: whatever it held is long past (see the header), so dropped.
      this.drop(i);
      this.epochs[i] = slot;
    }
    this.slots[i].append(e);
    e.slot = slot;
    if (slot < this.low) this.low = slot;
  }

  /** The list `e` (held, so in one) is in: its slot's, or the idle list once that slot was reused. */
  private listOf(e: Entry): SlotList {
    const i = ringIndex(e.slot);
    return this.epochs[i] === e.slot ? this.slots[i] : this.idle;
  }

  private evict(now: number): void {
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
    if (idle !== null) {
      this.idle.remove(idle);
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
      let victim: Entry | null = null;
      let seen = 0;
      for (let e = list.head; e !== null && seen < EVICTION_CANDIDATES; e = e.next, seen++) {
        if (victim === null || priority(e, this.horizon) < priority(victim, this.horizon)) victim = e;
      }
      if (victim !== null) {
        list.remove(victim);
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
    this.idle.takeAll(this.slots[i]);
    this.epochs[i] = Number.NaN;
  }

  private forget(e: Entry): void {
    this.entries.delete(e.key);
    e.key = '';
    e.slot = -1;
    e.prev = null;
    e.next = null;
    if (this.spare.length < this.track) this.spare.push(e);
  }
}

function priority(e: Entry, horizon: number): number {
  return e.refused ? e.tat + horizon : e.tat;
}

function ringIndex(slot: number): number {
  const i = slot % SLOTS;
  return i < 0 ? i + SLOTS : i;
}
