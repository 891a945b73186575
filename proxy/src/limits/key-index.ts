// Key values → entry numbers for the hot-key table, held outside the V8 heap.
//
// A Map<string, number> over 100 000 tracked values kept each value as a string, and a flood of
// fresh values (a member id per request) made every request slice a string that then lived in
// the table: promoted to old space, rehashed with the Map's table every few tens of thousands of
// inserts, and marked by every full GC. Here a value is found and stored from the range of the
// request string it lies in (the path, a header, the query), so a request allocates nothing; its
// characters are kept as bytes in the entry's record when they fit (numeric ids, IPv4 addresses,
// up to INLINE_KEY), else as a string in a side map. In `npm run bench:pipeline` (1 000 000
// distinct ids through a table of 100 000) the hot-key tables' live heap went from 11.6 to 0.7 MiB,
// the guard from ~1.8 to ~1.35 µs a decision and the p99 of a batch from 10.6 to 4.4 µs (fewer
// and shorter collections), with the records of hot-key-records.ts.
//
// Open addressing with linear probing at most half full, deletion by backward shift (no
// tombstones). The hash is seeded per index at random, so callers cannot aim values at one run
// of slots; a probe that still runs past MAX_PROBE slots re-seeds the index, at most once per
// `size` inserts, so re-seeding stays O(1) per insert even if values collided under every seed.
import { randomInt } from 'node:crypto';
import { INLINE_KEY, NONE, type HotKeyRecords } from './hot-key-records.ts';

/**
 * Far past the runs random hashes make at half load: 131 072 values in 262 144 slots probed at
 * most 25–39 slots in 20 simulated fills.
 */
const MAX_PROBE = 128;
const MIN_SLOTS = 1024;
export const NO_ENTRY = NONE;

export class KeyIndex {
  private seed: number;
  /** Pairs [hash, entry + 1]; 0 in the second marks an empty slot. */
  private slots: Int32Array;
  private mask: number;
  private count = 0;
  /** Each entry's hash, key length and characters (or ~length, the key then being in `long`). */
  private readonly records: HotKeyRecords;
  private readonly long = new Map<number, string>();
  private readonly maxProbe: number;
  private insertsSinceSeed = 0;
  /** Times the index re-seeded (diagnostics and tests). */
  reseeds = 0;

  /** `maxProbe` is for tests, to make re-seeding happen. */
  constructor(records: HotKeyRecords, maxProbe = MAX_PROBE) {
    this.records = records;
    this.maxProbe = maxProbe;
    this.seed = randomInt(0x7fffffff);
    this.slots = new Int32Array(MIN_SLOTS * 2);
    this.mask = MIN_SLOTS - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The hash of `source[start, end)` under this index's seed. */
  hash(source: string, start: number, end: number): number {
    let h = this.seed;
    for (let i = start; i < end; i++) h = Math.imul(h ^ source.charCodeAt(i), 0x01000193);
    return finish(h, end - start);
  }

  /** The entry holding `source[start, end)` (hash `h`), or NO_ENTRY. */
  find(source: string, start: number, end: number, h: number): number {
    const slots = this.slots;
    const mask = this.mask;
    // Terminates: at most half the slots are taken.
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const held = slots[2 * i + 1];
      if (held === 0) return NO_ENTRY;
      if (slots[2 * i] === h && this.equals(held - 1, source, start, end)) return held - 1;
    }
  }

  /** As find, hashing the range itself (for a caller that has no use for the hash). */
  lookup(source: string, start = 0, end = source.length): number {
    return this.find(source, start, end, this.hash(source, start, end));
  }

  /** Holds `source[start, end)` (hash `h`, not held yet) as entry `n`. */
  insert(source: string, start: number, end: number, h: number, n: number): void {
    const r = this.records;
    r.reserve(n + 1);
    r.setHash(n, h);
    const length = end - start;
    if (fitsInline(source, start, end)) {
      for (let i = 0; i < length; i++) r.setKeyByte(n, i, source.charCodeAt(start + i));
      r.setKeyLength(n, length);
    } else {
      this.long.set(n, source.slice(start, end));
      r.setKeyLength(n, ~length);
    }
    if ((this.count + 1) * 2 > this.mask + 1) this.rebuild((this.mask + 1) * 2, this.seed);
    this.count++;
    this.insertsSinceSeed++;
    // insertsSinceSeed ≥ count / 2: as many inserts since the last re-seed as were held then.
    if (this.place(h, n) > this.maxProbe && this.insertsSinceSeed * 2 >= this.count) {
      this.insertsSinceSeed = 0;
      this.reseeds++;
      this.rebuild(this.mask + 1, randomInt(0x7fffffff));
    }
  }

  /** Forgets entry `n` (held). */
  remove(n: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let hole = this.records.hash(n) & mask;
    while (slots[2 * hole + 1] !== n + 1) hole = (hole + 1) & mask;
    // Backward shift: a later value of the run moves into the hole when the hole lies between
    // its home slot and where it sits, so every value stays reachable from its home.
    for (let j = (hole + 1) & mask; slots[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = slots[2 * j] & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots[2 * hole] = slots[2 * j];
        slots[2 * hole + 1] = slots[2 * j + 1];
        hole = j;
      }
    }
    slots[2 * hole] = 0;
    slots[2 * hole + 1] = 0;
    if (this.records.keyLength(n) < 0) this.long.delete(n);
    this.count--;
  }

  /** The value of entry `n` (held), as a string: for listings, not the request path. */
  keyOf(n: number): string {
    const length = this.records.keyLength(n);
    if (length < 0) return this.long.get(n) ?? '';
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(this.records.keyByte(n, i));
    return text;
  }

  clear(): void {
    this.slots.fill(0);
    this.long.clear();
    this.count = 0;
  }

  private equals(n: number, source: string, start: number, end: number): boolean {
    const r = this.records;
    const length = r.keyLength(n);
    if (length < 0) return ~length === end - start && source.startsWith(this.long.get(n) ?? '', start);
    if (length !== end - start) return false;
    for (let i = 0; i < length; i++) if (r.keyByte(n, i) !== source.charCodeAt(start + i)) return false;
    return true;
  }

  /** Puts entry `n` in the first free slot of its run; answers how far from home that was. */
  private place(h: number, n: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let distance = 0;
    let i = h & mask;
    while (slots[2 * i + 1] !== 0) {
      i = (i + 1) & mask;
      distance++;
    }
    slots[2 * i] = h;
    slots[2 * i + 1] = n + 1;
    return distance;
  }

  /** Every held entry into `size` slots, hashed under `seed` (a new seed rehashes each value). */
  private rebuild(size: number, seed: number): void {
    const old = this.slots;
    const reseed = seed !== this.seed;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
    this.seed = seed;
    for (let i = 1; i < old.length; i += 2) {
      const held = old[i];
      if (held === 0) continue;
      const n = held - 1;
      if (reseed) this.records.setHash(n, this.rehash(n));
      this.place(this.records.hash(n), n);
    }
  }

  private rehash(n: number): number {
    const length = this.records.keyLength(n);
    if (length < 0) {
      const text = this.long.get(n) ?? '';
      return this.hash(text, 0, text.length);
    }
    let h = this.seed;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ this.records.keyByte(n, i), 0x01000193);
    return finish(h, length);
  }
}

function fitsInline(source: string, start: number, end: number): boolean {
  if (end - start > INLINE_KEY) return false;
  for (let i = start; i < end; i++) if (source.charCodeAt(i) > 0xff) return false;
  return true;
}

/** The length, then murmur3's finalizer: values that differ in one character land far apart. */
function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
