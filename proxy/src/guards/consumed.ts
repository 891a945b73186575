// Bits of RequestContext.consumed: what a guard took from a limiter for this request, so that
// its refund gives back exactly that when a later guard refuses the request.

export const CONSUMED_ACCOUNT_QUOTA = 1;
export const CONSUMED_GLOBAL = 2;
/**
 * Hot-key rule i (0-based) sets CONSUMED_HOT_KEY_FIRST << i; rules from MAX_REFUNDED_HOT_KEYS on
 * have no bit (hotKeyBit answers 0) and the hot-key guard records their takes itself.
 */
export const CONSUMED_HOT_KEY_FIRST = 4;
export const MAX_REFUNDED_HOT_KEYS = 28;

export function hotKeyBit(rule: number): number {
  return rule < MAX_REFUNDED_HOT_KEYS ? CONSUMED_HOT_KEY_FIRST << rule : 0;
}
