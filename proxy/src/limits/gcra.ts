// GCRA (generic cell rate algorithm) on one number per key: the theoretical arrival time (TAT),
// in clock milliseconds. A request at `now` conforms while TAT − now ≤ tolerance; admitting it
// moves TAT to max(TAT, now) + interval. So from idle `burst + 1` pass at once and afterwards one
// per interval: no span of t seconds admits more than rate × t + burst + 1, and a saturating run
// of N seconds admits rate × N + burst + 1. A TAT at or before `now` says nothing (a full bucket):
// the same as no entry at all, so such entries may be dropped.

export interface GcraSpec {
  /** Emission interval, ms: 1000 / rate. */
  readonly interval: number;
  /** How far TAT may run ahead of now and still admit, ms: burst × interval. */
  readonly tolerance: number;
  readonly perSecond: number;
  readonly burst: number;
}

export function gcraSpec(perSecond: number, burst = 0): GcraSpec {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`rate must be a positive number per second, got ${perSecond}`);
  if (!(burst >= 0) || !Number.isFinite(burst)) throw new RangeError(`burst must be a non-negative number, got ${burst}`);
  const interval = 1000 / perSecond;
  return { interval, tolerance: burst * interval, perSecond, burst };
}

/** 0 when a request at `now` conforms, else the ms (> 0) until it would. `tat` undefined = no entry. */
export function gcraWait(tat: number | undefined, now: number, interval: number, tolerance: number): number {
  if (tat === undefined || tat <= now) return 0;
  const wait = tat - tolerance - now;
  return wait > 0 ? wait : 0;
}

/** The TAT after admitting one request at `now`. */
export function gcraAdvance(tat: number | undefined, now: number, interval: number): number {
  return (tat === undefined || tat < now ? now : tat) + interval;
}

/** The TAT after giving one request back: one interval earlier, never before `now`. */
export function gcraRefund(tat: number, now: number, interval: number): number {
  const back = tat - interval;
  return back > now ? back : now;
}

/** Fill of a bucket at `now`, 0 (idle) .. 1 (TAT at its furthest: the next request waits). */
export function gcraFill(tat: number, now: number, interval: number, tolerance: number): number {
  const lead = tat - now;
  if (lead <= 0) return 0;
  const span = tolerance + interval;
  return lead >= span ? 1 : lead / span;
}
