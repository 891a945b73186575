// The header list sent upstream for an admitted request (SPEC §4): the caller's headers untouched,
// in their order and case, minus hop-by-hop fields, with the client address appended to
// x-forwarded-for and an x-request-id kept or created. Host stays as the caller sent it: sluice is
// a transparent sidecar, and the member service routes and logs by the name its callers use.
import { connectionNamed, HOP_BY_HOP } from './hop-by-hop.ts';
import { nextRequestId } from './request-id.ts';

/** Where the header pass writes its results; the forwarding exchange implements it. */
export interface RequestHead {
  headers: string[];
  /** True when the request carries a body (Content-Length > 0 or Transfer-Encoding). */
  hasBody: boolean;
}

// Names that need more than copying, by lower-case name. Everything else is copied as is.
const SKIP = 1;
const TRANSFER_ENCODING = 2;
const CONTENT_LENGTH = 3;
const FORWARDED_FOR = 4;
const REQUEST_ID = 5;

const SPECIAL = new Map<string, number>();
for (const name of HOP_BY_HOP) SPECIAL.set(name, SKIP);
SPECIAL.set('transfer-encoding', TRANSFER_ENCODING);
SPECIAL.set('content-length', CONTENT_LENGTH);
SPECIAL.set('x-forwarded-for', FORWARDED_FOR);
SPECIAL.set('x-request-id', REQUEST_ID);
// The listener has already answered `Expect: 100-continue`; the upstream client refuses the field.
SPECIAL.set('expect', SKIP);

/** Fills `head` from the caller's raw headers (alternating names and values). */
export function buildRequestHead(raw: readonly string[], remoteAddress: string, head: RequestHead): void {
  const named = connectionNamed(raw);
  const out: string[] = [];
  let forwardedFor = '';
  let hasRequestId = false;
  let hasBody = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    const lower = name.toLowerCase();
    const kind = SPECIAL.get(lower);
    if (kind !== undefined) {
      if (kind === SKIP) continue;
      if (kind === TRANSFER_ENCODING) {
        hasBody = true;
        continue;
      }
      if (kind === CONTENT_LENGTH) {
        if (value !== '0') hasBody = true;
      } else if (kind === FORWARDED_FOR) {
        // Several x-forwarded-for lines are one list (RFC 9110 §5.3): merge them, then append.
        forwardedFor = forwardedFor === '' ? value : `${forwardedFor}, ${value}`;
        continue;
      } else if (kind === REQUEST_ID) {
        if (value === '') continue;
        hasRequestId = true;
      }
    } else if (named !== null && named.has(lower)) {
      continue;
    }
    out.push(name, value);
  }
  if (remoteAddress !== '') forwardedFor = forwardedFor === '' ? remoteAddress : `${forwardedFor}, ${remoteAddress}`;
  if (forwardedFor !== '') out.push('x-forwarded-for', forwardedFor);
  if (!hasRequestId) out.push('x-request-id', nextRequestId());
  head.headers = out;
  head.hasBody = hasBody;
}
