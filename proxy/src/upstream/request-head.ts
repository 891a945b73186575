// The header list sent upstream for an admitted request (SPEC §4): the caller's headers untouched,
// in their order and case, minus hop-by-hop fields, with the client address appended to
// x-forwarded-for and an x-request-id kept or created. Host stays as the caller sent it: sluice is
// a transparent sidecar, and the member service routes and logs by the name its callers use.
import { addConnectionNamed, HOP_BY_HOP } from './hop-by-hop.ts';
import { nextRequestId } from './request-id.ts';

/** Where the header pass writes its results; the forwarding exchange implements it. */
export interface RequestHead {
  headers: string[];
  /** True when the request carries a body (Content-Length > 0 or Transfer-Encoding). */
  hasBody: boolean;
}

// Names that need more than copying. Everything else is copied as is.
const ORDINARY = 0;
const SKIP = 1;
const TRANSFER_ENCODING = 2;
const CONTENT_LENGTH = 3;
const FORWARDED_FOR = 4;
const REQUEST_ID = 5;
const CONNECTION = 6;

interface Special {
  readonly lower: string;
  readonly kind: number;
}

const SPECIAL = new Map<string, number>();
for (const name of HOP_BY_HOP) SPECIAL.set(name, SKIP);
SPECIAL.set('connection', CONNECTION);
SPECIAL.set('transfer-encoding', TRANSFER_ENCODING);
SPECIAL.set('content-length', CONTENT_LENGTH);
SPECIAL.set('x-forwarded-for', FORWARDED_FOR);
SPECIAL.set('x-request-id', REQUEST_ID);
// The listener has already answered `Expect: 100-continue`; the upstream client refuses the field.
SPECIAL.set('expect', SKIP);

// The special names by length. Most names a caller sends are of another length or differ in their
// first letters: found so, a name is neither lower-cased nor hashed (lower-casing each name and a
// Map lookup were the largest part of building the head in a profile).
const BY_LENGTH: Special[][] = [];
for (const [lower, kind] of SPECIAL) (BY_LENGTH[lower.length] ??= []).push({ lower, kind });

function kindOf(name: string): number {
  const candidates = BY_LENGTH[name.length];
  if (candidates === undefined) return ORDINARY;
  for (let c = 0; c < candidates.length; c++) if (equalsLowerCase(name, candidates[c].lower)) return candidates[c].kind;
  return ORDINARY;
}

/** `name` (any case) equals `lower` (lower case, same length): ASCII case folding, as field names are tokens. */
function equalsLowerCase(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Fills `head` from the caller's raw headers (alternating names and values). */
export function buildRequestHead(raw: readonly string[], remoteAddress: string, head: RequestHead): void {
  let out: string[] = [];
  let named: Set<string> | null = null;
  let forwardedFor = '';
  let hasRequestId = false;
  let hasBody = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    const kind = kindOf(name);
    if (kind !== ORDINARY) {
      if (kind === SKIP) continue;
      if (kind === CONNECTION) {
        named = addConnectionNamed(value, named);
        continue;
      }
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
    }
    out.push(name, value);
  }
  // Fields a Connection header names (rare) may come before it: dropped once all are known.
  if (named !== null) out = withoutNamed(out, named);
  if (remoteAddress !== '') forwardedFor = forwardedFor === '' ? remoteAddress : `${forwardedFor}, ${remoteAddress}`;
  if (forwardedFor !== '') out.push('x-forwarded-for', forwardedFor);
  if (!hasRequestId) out.push('x-request-id', nextRequestId());
  head.headers = out;
  head.hasBody = hasBody;
}

/** `fields` without the ordinary ones `named` lists (the special ones are handled on their own). */
function withoutNamed(fields: readonly string[], named: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    if (kindOf(name) === ORDINARY && named.has(name.toLowerCase())) continue;
    kept.push(name, fields[i + 1]);
  }
  return kept;
}
