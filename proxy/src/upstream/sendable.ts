// Whether undici will take a request head. Node's parser accepts some requests undici's Request
// refuses (a second Host line, a target that is neither origin- nor absolute-form such as `*`, a
// byte undici's field check rejects). Such a refusal must never reach a pool: undici reports it by
// returning false from the client's dispatch, and the pool then marks that client as waiting
// for a 'drain' that an idle client never emits. Each refusal so takes one connection slot out of
// the pool for good; once all are gone every request to the endpoint queues forever. So the
// exchange checks here first, with the same rules as undici 8's lib/core/request.js.

// undici's invalidPathRegex and headerCharRegex.
const BAD_PATH_CHAR = /[^\u0021-\u00ff]/;
const BAD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const DIGITS = /^[0-9]+$/;

/** A target undici accepts: origin-form or absolute-form, printable bytes only. */
export function isSendablePath(path: string): boolean {
  if (path.charCodeAt(0) !== 0x2f /* / */ && !path.startsWith('http://') && !path.startsWith('https://')) return false;
  return !BAD_PATH_CHAR.test(path);
}

/**
 * The header list (alternating names and values, as built by buildRequestHead: hop-by-hop fields
 * and Expect already dropped) passes undici's checks: token names, valid values, one Host, at most
 * one Content-Length of digits only.
 */
export function isSendableHead(headers: readonly string[]): boolean {
  let hosts = 0;
  let lengths = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (!TOKEN.test(name) || BAD_VALUE_CHAR.test(value)) return false;
    // Only names of four and fourteen characters need the case-insensitive comparison.
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (++hosts > 1) return false;
    } else if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (++lengths > 1 || !DIGITS.test(value)) return false;
    }
  }
  return true;
}
