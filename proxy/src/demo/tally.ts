// Counts what happened to one stream of demo traffic: sent, admitted per serving cluster, rejected
// per sluice reason, and anything else (a bare status or a network error).

export class Tally {
  sent = 0;
  inFlight = 0;
  /** Serving cluster (from the stand-in's header) → admitted count. */
  readonly admitted = new Map<string, number>();
  /** x-sluice-reason → count. */
  readonly rejected = new Map<string, number>();
  /** Answers that are neither: `HTTP 404`, `ECONNREFUSED`, ... → count. */
  readonly other = new Map<string, number>();

  admittedBy(cluster: string): number {
    return this.admitted.get(cluster) ?? 0;
  }

  rejectedFor(reason: string): number {
    return this.rejected.get(reason) ?? 0;
  }

  get admittedTotal(): number {
    return sum(this.admitted);
  }

  get rejectedTotal(): number {
    return sum(this.rejected);
  }

  /** Adds `other` into this one (for totals over phases). */
  add(other: Tally): void {
    this.sent += other.sent;
    for (const [k, v] of other.admitted) bump(this.admitted, k, v);
    for (const [k, v] of other.rejected) bump(this.rejected, k, v);
    for (const [k, v] of other.other) bump(this.other, k, v);
  }
}

export function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function sum(map: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of map.values()) n += v;
  return n;
}
