// Counts per name for the few names an account has: the routes it calls, the addresses and the
// identities it calls from. The first name is held inline and a Map is made only for a second
// distinct one. Most accounts call one route from one address as one identity: with 10 000
// accounts the six Maps per account this replaces (usage, ledger cursor and day record) were
// ~13 MiB of live heap, an empty V8 Map with its table being ~0.25 KiB. The name bumped last is
// remembered, so a keep-alive connection's next request is one pointer comparison, no lookup.

/** One name's count. */
export class NamedCount {
  readonly name: string;
  n: number;
  constructor(name: string, n: number) {
    this.name = name;
    this.n = n;
  }
}

export class NameCounts {
  /** Most distinct names held; further ones are refused (the caller counts them as overflow). */
  readonly max: number;
  private first: NamedCount | null = null;
  private map: Map<string, NamedCount> | null = null;
  private last: NamedCount | null = null;

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.map !== null ? this.map.size : this.first === null ? 0 : 1;
  }

  /** Adds `n` to `name`; false when `max` other names are held (nothing added). */
  add(name: string, n = 1): boolean {
    const last = this.last;
    if (last !== null && last.name === name) {
      last.n += n;
      return true;
    }
    const found = this.find(name);
    if (found !== undefined) {
      found.n += n;
      this.last = found;
      return true;
    }
    if (this.size >= this.max) return false;
    const made = new NamedCount(name, n);
    if (this.map !== null) this.map.set(name, made);
    else if (this.first === null) this.first = made;
    else this.map = new Map([[this.first.name, this.first], [name, made]]);
    this.last = made;
    return true;
  }

  /** The count of `name`, 0 when not held. */
  get(name: string): number {
    return this.find(name)?.n ?? 0;
  }

  /** Every name held with its count, in the order first added. */
  *counts(): Generator<NamedCount> {
    if (this.map !== null) yield* this.map.values();
    else if (this.first !== null) yield this.first;
  }

  /** Forget every name (a Map once made is kept, emptied: an account with several names keeps them). */
  clear(): void {
    this.first = null;
    this.last = null;
    this.map?.clear();
  }

  private find(name: string): NamedCount | undefined {
    if (this.map !== null) return this.map.get(name);
    return this.first !== null && this.first.name === name ? this.first : undefined;
  }
}
