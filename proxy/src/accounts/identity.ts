// The calling identity of a request (SPEC §13 callers.identity): the first present of the listed
// sources, a header such as x-client-app or the client address. Bounded in length; it feeds the
// caller ledger only and is never a metric label.
import type { IncomingHttpHeaders } from 'node:http';
import type { IdentitySource } from '../rules/types.ts';

/** Longest identity kept; longer values are cut (a header is the caller's to fill). */
export const MAX_IDENTITY_LENGTH = 64;

export type IdentityOf = (headers: IncomingHttpHeaders, remoteAddress: string) => string;

/** Compiled once per rules load: header names in order, null standing for the client address. */
export function compileIdentity(sources: readonly IdentitySource[]): IdentityOf {
  const names: (string | null)[] = sources.map((s) => (s.kind === 'header' ? s.name : null));
  return (headers, remoteAddress) => {
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const value = name === null ? remoteAddress : headers[name];
      if (typeof value === 'string' && value !== '') return bounded(value);
    }
    return '';
  };
}

export function bounded(value: string): string {
  return value.length > MAX_IDENTITY_LENGTH ? value.slice(0, MAX_IDENTITY_LENGTH) : value;
}
