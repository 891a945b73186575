// What the load generators send: member paths in a fixed shuffled order, and the caller headers.
// Shared by run.ts (which renders rules for the accounts) and the generator process.
import { createHash } from 'node:crypto';

/** `count` member ids (100000, 100001, ...) in a fixed pseudo-random order (same sequence every run). */
export function memberPaths(count = 1000): string[] {
  const ids = Array.from({ length: count }, (_, i) => 100000 + i);
  let seed = 0x2545f491;
  for (let i = ids.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids.map((id) => `/members/${id}`);
}

/** Sent by every request of every variant; direct and the peers ignore them. */
export const requestHeaders: Readonly<Record<string, string>> = { 'x-caller-account': 'bench', 'x-caller-key': 'bench-secret-key' };

/**
 * A wider request mix: `ids` distinct member paths and `accounts` caller accounts, walked in
 * turn by every request (the loaded variant: thousands of accounts, a full hot-key table).
 */
export interface RequestMix {
  readonly ids: number;
  readonly accounts: number;
}

export function mixAccountId(i: number): string {
  return `acct-${i}`;
}

export function mixAccountKey(i: number): string {
  return `bench-key-${i}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The headers of account `i` of a mix. */
export function mixHeaders(accounts: number): Record<string, string>[] {
  return Array.from({ length: accounts }, (_, i) => ({ 'x-caller-account': mixAccountId(i), 'x-caller-key': mixAccountKey(i) }));
}
