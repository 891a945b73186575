// GCRA (generic cell rate algorithm) on one number per key: the theoretical arrival time (TAT),
// in clock milliseconds. A request arriving at `at` conforms while TAT − at ≤ tolerance; admitting
// it moves TAT to max(TAT, at) + interval. So from idle `burst + 1` pass at once and afterwards one
// per interval: no span of t seconds admits more than rate × t + burst + 1, and a saturating run
// of N seconds admits rate × N + burst + 1. A TAT at or before `at` says nothing (a full bucket):
// the same as no entry at all, so such entries may be dropped.
//
// This is the only TypeScript copy of the arithmetic (memory store, local fallback buckets and
// hot-key tables all call it); store/gcra-lua.ts is the Redis copy, and both are checked against
// the same vectors (test/limits/gcra-vectors.ts).

export interface GcraSpec {
  readonly perSecond: number;
  readonly burst: number;
  /** Emission interval, ms: 1000 / rate. Infinity at rate 0: a closed bucket admits nothing. */
  readonly interval: number;
  /** How far TAT may run ahead of an arrival and still admit it, ms: burst × interval. */
  readonly tolerance: number;
}

/** Answer for a closed bucket (rate 0): never admits; retry after a second. */
export const CLOSED_RETRY_MS = 1000;

/** Interval and tolerance worked out once, when the rule is compiled. */
export function gcraSpec(perSecond: number, burst: number): GcraSpec {
  if (!(perSecond >= 0) || !Number.isFinite(perSecond)) throw new RangeError(`rate must be a number per second >= 0, got ${perSecond}`);
  if (!(burst >= 0) || !Number.isFinite(burst)) throw new RangeError(`burst must be a non-negative number, got ${burst}`);
  if (perSecond === 0) return { perSecond, burst, interval: Infinity, tolerance: 0 };
  const interval = 1000 / perSecond;
  return { perSecond, burst, interval, tolerance: burst * interval };
}

/** True for a rate-0 bucket. */
export function gcraClosed(spec: GcraSpec): boolean {
  return spec.interval === Infinity;
}

/** 0 when a request arriving at `at` conforms, else the ms (> 0) until it would. `tat` undefined = no entry. */
export function gcraWait(tat: number | undefined, at: number, spec: GcraSpec): number {
  if (spec.interval === Infinity) return CLOSED_RETRY_MS;
  if (tat === undefined || tat <= at) return 0;
  const wait = tat - spec.tolerance - at;
  return wait > 0 ? wait : 0;
}

/** The TAT after admitting one request arriving at `at`. */
export function gcraAdvance(tat: number | undefined, at: number, spec: GcraSpec): number {
  return (tat === undefined || tat < at ? at : tat) + spec.interval;
}

/** The TAT after giving one request back: one interval earlier, never before `now`. */
export function gcraRefund(tat: number, now: number, spec: GcraSpec): number {
  const back = tat - spec.interval;
  return back > now ? back : now;
}

/** Fill of a bucket at `now`, 0 (idle) .. 1 (TAT at its furthest: the next request waits). */
export function gcraFill(tat: number, now: number, spec: GcraSpec): number {
  const lead = tat - now;
  if (lead <= 0) return 0;
  const span = spec.tolerance + spec.interval;
  return lead >= span ? 1 : lead / span;
}
