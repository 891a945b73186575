// Whether undici will take a request head. Node's parser accepts some requests undici's Request
// refuses: a second Host line, or a target that is neither origin- nor absolute-form (`*`). Such
// a refusal must never reach a pool: undici reports it by returning false from the client's
// dispatch, and the pool then marks that client as waiting for a 'drain' an idle client never
// emits. Each refusal so took one connection slot out of the pool for good; once all were gone,
// every request to the endpoint queued forever. So the exchange checks here first.
// The rest of undici's checks (lib/core/request.js: token names, field-value bytes, target bytes,
// one Content-Length of digits) Node's strict parser already enforces on every request it accepts,
// and the hop-by-hop fields and Expect undici refuses are dropped by buildRequestHead: checking
// them again would cost ~0.4 µs per request.

/** A target undici accepts: origin-form or absolute-form. */
export function isSendablePath(path: string): boolean {
  return path.charCodeAt(0) === 0x2f /* / */ || path.startsWith('http://') || path.startsWith('https://');
}

/** The header list (alternating names and values, as built by buildRequestHead) has at most one Host. */
export function isSendableHead(headers: readonly string[]): boolean {
  let hosts = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    // Only four-character names need the case-insensitive comparison.
    if (name.length === 4 && (name === 'host' || name.toLowerCase() === 'host') && ++hosts > 1) return false;
  }
  return true;
}
