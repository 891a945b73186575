// The entries of a hot-key table, one 64-byte record each in one ArrayBuffer: an entry's TAT,
// time slot, list links, rate, key hash, key length and (when it fits) the key's characters share
// one cache line. A flood of distinct values touches a cold entry per request; with one typed
// array per field, each field of it sat on a cache line of its own.
//
//   bytes  0–7   TAT (f64)            24–27  spec: 0 the rule's rate, i + 1 override i
//          8–15  time slot (f64)      28–31  1 when refused while tracked
//         16–19  prev in its list     32–35  key hash
//         20–23  next in its list,    36–39  key length, or ~length when held as a string
//                or the next free     40–63  the key's characters when it fits (INLINE_KEY)

export const RECORD_BYTES = 64;
/** Longest key, in characters each below 256, held in its record. */
export const INLINE_KEY = 24;
/** No entry / no slot. */
export const NONE = -1;
const F64_PER = RECORD_BYTES / 8;
const I32_PER = RECORD_BYTES / 4;
const SLOT = 1;
const PREV = 4;
const NEXT = 5;
const SPEC = 6;
const REFUSED = 7;
const HASH = 8;
const LENGTH = 9;
const KEY_AT = 40;
const INITIAL_CAPACITY = 1024;

export class HotKeyRecords {
  private f64 = new Float64Array(0);
  private i32 = new Int32Array(0);
  private u8 = new Uint8Array(0);
  /** Entry numbers handed out so far; those below it are in use or free. */
  private used = 0;
  private free = NONE;
  /** Records allocated up to this many; past it only when a table holds more for a moment. */
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** A number for a new entry: a freed one, else the next, growing the buffer. */
  claim(): number {
    const n = this.free;
    if (n !== NONE) {
      this.free = this.next(n);
      return n;
    }
    if (this.used === this.capacity) this.grow(this.used + 1);
    return this.used++;
  }

  release(n: number): void {
    this.setSlot(n, NONE);
    this.setPrev(n, NONE);
    this.setNext(n, this.free);
    this.free = n;
  }

  clear(): void {
    this.used = 0;
    this.free = NONE;
  }

  /** Makes room for entry numbers below `needed` (numbers handed out by the caller, not claim). */
  reserve(needed: number): void {
    if (needed > this.capacity) this.grow(needed);
  }

  get capacity(): number {
    return this.f64.length / F64_PER;
  }

  tat(n: number): number {
    return this.f64[n * F64_PER];
  }
  setTat(n: number, tat: number): void {
    this.f64[n * F64_PER] = tat;
  }
  slot(n: number): number {
    return this.f64[n * F64_PER + SLOT];
  }
  setSlot(n: number, slot: number): void {
    this.f64[n * F64_PER + SLOT] = slot;
  }
  prev(n: number): number {
    return this.i32[n * I32_PER + PREV];
  }
  setPrev(n: number, to: number): void {
    this.i32[n * I32_PER + PREV] = to;
  }
  next(n: number): number {
    return this.i32[n * I32_PER + NEXT];
  }
  setNext(n: number, to: number): void {
    this.i32[n * I32_PER + NEXT] = to;
  }
  spec(n: number): number {
    return this.i32[n * I32_PER + SPEC];
  }
  setSpec(n: number, spec: number): void {
    this.i32[n * I32_PER + SPEC] = spec;
  }
  refused(n: number): boolean {
    return this.i32[n * I32_PER + REFUSED] === 1;
  }
  setRefused(n: number, refused: boolean): void {
    this.i32[n * I32_PER + REFUSED] = refused ? 1 : 0;
  }
  hash(n: number): number {
    return this.i32[n * I32_PER + HASH];
  }
  setHash(n: number, hash: number): void {
    this.i32[n * I32_PER + HASH] = hash;
  }
  /** The key's length, or ~length when the key is held as a string elsewhere. */
  keyLength(n: number): number {
    return this.i32[n * I32_PER + LENGTH];
  }
  setKeyLength(n: number, length: number): void {
    this.i32[n * I32_PER + LENGTH] = length;
  }
  /** Character `i` of the key held in record `n`. */
  keyByte(n: number, i: number): number {
    return this.u8[n * RECORD_BYTES + KEY_AT + i];
  }
  setKeyByte(n: number, i: number, code: number): void {
    this.u8[n * RECORD_BYTES + KEY_AT + i] = code;
  }

  private grow(needed: number): void {
    // Up to `max`; past it only when an eviction found nothing to drop (the table then holds a
    // few more than `track` for a moment, as it always could), never by writing out of bounds.
    const length = this.capacity;
    let size = length < this.max ? Math.min(this.max, Math.max(INITIAL_CAPACITY, length * 2)) : length * 2;
    if (size < needed) size = needed;
    const buffer = new ArrayBuffer(size * RECORD_BYTES);
    new Uint8Array(buffer).set(this.u8);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }
}
