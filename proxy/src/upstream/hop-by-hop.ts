// Hop-by-hop header fields (RFC 9110 §7.6.1): they describe one connection, so a proxy drops them
// in both directions, together with every field the Connection header names. Works on raw
// alternating name/value arrays (IncomingMessage.rawHeaders, undici's raw response headers) so
// the hot path builds no header objects.

/** Lower-case names that never cross the proxy. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}

type RawHeaders = readonly (string | Buffer)[];

function text(value: string | Buffer): string {
  return typeof value === 'string' ? value : value.toString('latin1');
}

/**
 * Lower-case names listed in the Connection header(s) that are not hop-by-hop already, or null
 * when there are none: the common case (`Connection: keep-alive`) allocates nothing.
 */
export function connectionNamed(raw: RawHeaders): Set<string> | null {
  let named: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // 'connection' is 10 bytes long: skip the lower-casing for every other length.
    if (name.length !== 10 || text(name).toLowerCase() !== 'connection') continue;
    const value = text(raw[i + 1]);
    let start = 0;
    while (start <= value.length) {
      let end = value.indexOf(',', start);
      if (end === -1) end = value.length;
      const token = value.slice(start, end).trim().toLowerCase();
      if (token !== '' && !HOP_BY_HOP.has(token) && token !== 'close') {
        if (named === null) named = new Set();
        named.add(token);
      }
      start = end + 1;
    }
  }
  return named;
}

/**
 * A flat `[name, value, ...]` copy of raw headers without hop-by-hop fields, ready for
 * `ServerResponse.writeHead(status, array)` or undici's `headers` option.
 */
export function withoutHopByHop(raw: RawHeaders): string[] {
  const named = connectionNamed(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = text(raw[i]);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== null && named.has(lower))) continue;
    out.push(name, text(raw[i + 1]));
  }
  return out;
}
