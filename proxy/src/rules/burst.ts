// The default burst of every smooth limit (SPEC §3): a tenth of a second of its rate, at least 1.
// Real arrivals come in bunches (one event-loop turn, one batch of responses, callers on a shared
// timer); with no tolerance two arrivals in the same instant are one too many, however far below
// its rate a caller is. Applied once, at normalization, to account quotas, `unknown_quota`, hot
// keys (each override at its own rate) and the global cap (its class ceilings at theirs). An
// explicit `burst` wins, `burst: 0` included: strict spacing, for callers that pace themselves.

/** Seconds of the rate a default burst holds. */
export const DEFAULT_BURST_SECONDS = 0.1;

/** A tenth of a second of `perSecond`, rounded up, at least 1. */
export function defaultBurst(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond * DEFAULT_BURST_SECONDS));
}
