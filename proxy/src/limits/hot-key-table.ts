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
// Entries are columns of typed arrays indexed by an entry number, not objects: an Entry object
// with its TAT and slot boxed as heap numbers held ~110 bytes a key; the columns hold 33, so
// 100 000 tracked keys keep ~7 MB less live heap (measured with a heap snapshot of the loaded
// bench). Freed numbers are reused, so a churn of distinct values allocates nothing but the
// Map's own slots.
import { CLOSED_RETRY_MS, gcraAdvance, gcraClosed, gcraFill, gcraRefund, gcraWait, type GcraSpec } from './gcra.ts';

const SLOTS = 64;
const SLOTS_PER_HORIZON = 16;
/** Entries of the lowest slot compared when evicting. */
const EVICTION_CANDIDATES = 4;
/** No entry / no slot. */
const NONE = -1;
const INITIAL_CAPACITY = 1024;

/**
 * The entries' fields, one array each. Entry n is `keys[n]`, `tats[n]`... `slots[n]` is the time
 * slot (absolute index) it sits in, NONE when in none; `prev`/`next` link it to its neighbours in
 * that slot's list (older, newer), and `next` links free numbers.
 */
class Columns {
  keys: string[] = [];
  specs: GcraSpec[] = [];
  tats = new Float64Array(0);
  slots = new Float64Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  /** 1 when refused at least once while tracked: ranks one horizon later for eviction. */
  refused = new Uint8Array(0);
  /** Entry numbers handed out so far; those below it are in use or free. */
  used = 0;
  private free = NONE;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** A number for a new entry: a freed one, else the next, growing the arrays. */
  claim(): number {
    const n = this.free;
    if (n !== NONE) {
      this.free = this.next[n];
      return n;
    }
    if (this.used === this.tats.length) this.grow();
    return this.used++;
  }

  release(n: number): void {
    this.keys[n] = '';
    this.slots[n] = NONE;
    this.prev[n] = NONE;
    this.next[n] = this.free;
    this.free = n;
  }

  clear(): void {
    this.keys.length = 0;
    this.specs.length = 0;
    this.used = 0;
    this.free = NONE;
  }

  private grow(): void {
    // Up to `max`; past it only when an eviction found nothing to drop (the table then holds a
    // few more than `track` for a moment, as it always could), never by writing out of bounds.
    const length = this.tats.length;
    const size = length < this.max ? Math.min(this.max, Math.max(INITIAL_CAPACITY, length * 2)) : length * 2;
    const widen = <T extends Float64Array | Int32Array | Uint8Array>(old: T, made: T): T => {
      made.set(old);
      return made;
    };
    this.tats = widen(this.tats, new Float64Array(size));
    this.slots = widen(this.slots, new Float64Array(size));
    this.prev = widen(this.prev, new Int32Array(size));
    this.next = widen(this.next, new Int32Array(size));
    this.refused = widen(this.refused, new Uint8Array(size));
  }
}

/** The entries of one time slot, oldest update first, linked through the columns. */
class SlotList {
  head = NONE;
  tail = NONE;
  size = 0;

  append(c: Columns, n: number): void {
    c.prev[n] = this.tail;
    c.next[n] = NONE;
    if (this.tail === NONE) this.head = n;
    else c.next[this.tail] = n;
    this.tail = n;
    this.size++;
  }

  remove(c: Columns, n: number): void {
    const prev = c.prev[n];
    const next = c.next[n];
    if (prev === NONE) this.head = next;
    else c.next[prev] = next;
    if (next === NONE) this.tail = prev;
    else c.prev[next] = prev;
    c.prev[n] = NONE;
    c.next[n] = NONE;
    this.size--;
  }

  clear(): void {
    this.head = NONE;
    this.tail = NONE;
    this.size = 0;
  }

  /** Moves every entry of `other` to the end of this list, at once. */
  takeAll(c: Columns, other: SlotList): void {
    if (other.head === NONE) return;
    if (this.tail === NONE) this.head = other.head;
    else {
      c.next[this.tail] = other.head;
      c.prev[other.head] = this.tail;
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
  /** Key value → entry number in `columns`. */
  private readonly entries = new Map<string, number>();
  private readonly columns: Columns;
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
    this.columns = new Columns(this.track);
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
    const c = this.columns;
    const n = this.entries.get(key);
    if (n === undefined) {
      // A first sighting conforms, unless its rate is 0.
      const spec = this.specFor(key);
      if (gcraClosed(spec)) return CLOSED_RETRY_MS;
      if (this.entries.size >= this.track) this.evict(now);
      const fresh = c.claim();
      c.keys[fresh] = key;
      c.specs[fresh] = spec;
      c.tats[fresh] = gcraAdvance(undefined, now, spec);
      c.refused[fresh] = 0;
      c.slots[fresh] = NONE;
      this.entries.set(key, fresh);
      this.place(fresh);
      return 0;
    }
    const spec = c.specs[n];
    const tat = c.tats[n];
    const wait = gcraWait(tat, now, spec);
    if (wait > 0) {
      if (c.refused[n] === 0) {
        c.refused[n] = 1;
        this.place(n);
      }
      return wait;
    }
    // A key refused within the last horizon is still known to run hot.
    if (tat <= now && c.refused[n] === 1 && now - tat >= this.horizon) c.refused[n] = 0;
    c.tats[n] = gcraAdvance(tat, now, spec);
    this.place(n);
    return 0;
  }

  /** 0 when a request for `key` at `now` would be admitted, else the wait; changes nothing. */
  peek(key: string, now: number): number {
    const n = this.entries.get(key);
    return n === undefined ? gcraWait(undefined, now, this.specFor(key)) : gcraWait(this.columns.tats[n], now, this.columns.specs[n]);
  }

  /** Give back one request for `key` (a later check refused it). */
  give(key: string, now: number): void {
    const n = this.entries.get(key);
    if (n === undefined) return;
    this.columns.tats[n] = gcraRefund(this.columns.tats[n], now, this.columns.specs[n]);
    this.place(n);
  }

  /**
   * Keys whose fill is at least `ratio` (1 = at the limit), most loaded first, at most `limit`.
   * Scans from the latest slots down; control path only.
   */
  near(now: number, ratio: number, limit: number): HotKeyView[] {
    const c = this.columns;
    const found: HotKeyView[] = [];
    const nowSlot = Math.floor(now / this.width);
    const cap = Math.max(limit, 1) * 4;
    for (let j = nowSlot + SLOTS - 1; j >= nowSlot && found.length < cap; j--) {
      const i = ringIndex(j);
      if (this.epochs[i] !== j) continue;
      for (let n = this.slots[i].head; n !== NONE; n = c.next[n]) {
        const spec = c.specs[n];
        const fill = gcraFill(c.tats[n], now, spec);
        if (fill === 0 || fill < ratio) continue;
        const wait = gcraWait(c.tats[n], now, spec);
        found.push({ key: c.keys[n], perSecond: spec.perSecond, fill, over: wait > 0, retryAfterMs: wait });
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
    this.columns.clear();
  }

  /**
   * Put entry `n` in the slot of its eviction priority. Re-inserted even within the same slot, so
   * a slot's iteration order follows the last update: its first entries are its oldest.
   */
  private place(n: number): void {
    const c = this.columns;
    const slot = Math.floor(this.priority(n) / this.width);
    if (c.slots[n] !== NONE) this.listOf(n).remove(c, n);
    const i = ringIndex(slot);
    if (this.epochs[i] !== slot) {
      // Reused for a later time: whatever it held is long past (see the header), so dropped.
      this.drop(i);
      this.epochs[i] = slot;
    }
    this.slots[i].append(c, n);
    c.slots[n] = slot;
    if (slot < this.low) this.low = slot;
  }

  /** The list entry `n` (held, so in one) is in: its slot's, or the idle list once that slot was reused. */
  private listOf(n: number): SlotList {
    const slot = this.columns.slots[n];
    const i = ringIndex(slot);
    return this.epochs[i] === slot ? this.slots[i] : this.idle;
  }

  private evict(now: number): void {
    const c = this.columns;
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
      this.idle.remove(c, idle);
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
      for (let n = list.head; n !== NONE && seen < EVICTION_CANDIDATES; n = c.next[n], seen++) {
        if (victim === NONE || this.priority(n) < this.priority(victim)) victim = n;
      }
      if (victim !== NONE) {
        list.remove(c, victim);
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
    this.idle.takeAll(this.columns, this.slots[i]);
    this.epochs[i] = Number.NaN;
  }

  private forget(n: number): void {
    this.entries.delete(this.columns.keys[n]);
    this.columns.release(n);
  }

  /** Eviction priority of entry `n`: its TAT, one horizon later once it was refused. */
  private priority(n: number): number {
    const tat = this.columns.tats[n];
    return this.columns.refused[n] === 1 ? tat + this.horizon : tat;
  }
}

function ringIndex(slot: number): number {
  const i = slot % SLOTS;
  return i < 0 ? i + SLOTS : i;
}
