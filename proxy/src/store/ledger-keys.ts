// Redis keys of the fleet-wide caller ledger. Everything of one account lives under the hash tag
// `{ledger:ID}` (one Redis Cluster slot), so one script call writes an account's second and one
// PFCOUNT unions its days. Unregistered names are URI-encoded (they are whatever a caller sent).
//
//   sluice:{ledger:ID}:DAY          hash: requests, off_scenario, peak, first_seen, last_seen, rej:REASON
//   sluice:{ledger:ID}:DAY:routes   sorted set: route template → calls
//   sluice:{ledger:ID}:DAY:ids      sorted set: identity → calls (the busiest 100)
//   sluice:{ledger:ID}:DAY:hll      HyperLogLog of identities
//   sluice:{ledger:ID}:s:SECOND     the fleet's requests in one wall second (kept 2 minutes)
//   sluice:{ledger-index}:DAY:unregistered   sorted set: names unregistered callers sent → attempts
// DAY is YYYY-MM-DD (UTC). Every key expires 30 days after its last write.

export const LEDGER_TTL_SECONDS = 30 * 86_400;
export const SECOND_TTL_SECONDS = 120;

export function ledgerTag(id: string, registered: boolean): string {
  return registered ? `sluice:{ledger:${id}}` : `sluice:{ledger-unregistered:${encodeURIComponent(id)}}`;
}

export interface DayKeys {
  readonly hash: string;
  readonly routes: string;
  readonly ids: string;
  readonly hll: string;
}

export function dayKeys(tag: string, day: string): DayKeys {
  const base = `${tag}:${day}`;
  return { hash: base, routes: `${base}:routes`, ids: `${base}:ids`, hll: `${base}:hll` };
}

export function secondKey(tag: string, second: number): string {
  return `${tag}:s:${second}`;
}

export function unregisteredIndexKey(day: string): string {
  return `sluice:{ledger-index}:${day}:unregistered`;
}
