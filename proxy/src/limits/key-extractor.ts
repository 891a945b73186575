// Compiles a hot-key rule's `key` into a function answering the key value of a request, or null
// when the request has none (the rule then does not apply). No regular expressions and no
// allocation per request beyond the extracted substring.
import type { RequestContext } from '../request-context.ts';
import { parseHotKeySpec } from '../rules/hot-key-spec.ts';

export type KeyExtractor = (ctx: RequestContext) => string | null;

/** Throws on a key the rules validation would have refused. */
export function compileKeyExtractor(text: string): KeyExtractor {
  const parsed = parseHotKeySpec(text);
  if (!parsed.ok) throw new Error(parsed.error);
  const spec = parsed.value;
  switch (spec.kind) {
    case 'ip':
      return (ctx) => (ctx.remoteAddress === '' ? null : ctx.remoteAddress);
    case 'header': {
      const name = spec.name;
      return (ctx) => headerValue(ctx.req.headers[name]);
    }
    case 'query': {
      const name = spec.name;
      return (ctx) => queryValue(ctx.query, name);
    }
    case 'path': {
      const segments = spec.segments;
      const index = spec.index;
      return (ctx) => pathValue(ctx.path, segments, index);
    }
  }
}

function headerValue(value: string | string[] | undefined): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (value !== undefined && value.length > 0 && value[0] !== '') return value[0];
  return null;
}

/** The raw (undecoded) value of the first `name=` parameter in `query`, or null. */
export function queryValue(query: string, name: string): string | null {
  const n = name.length;
  let from = 0;
  while (from <= query.length - n) {
    const at = query.indexOf(name, from);
    if (at < 0) return null;
    const eq = at + n;
    if ((at === 0 || query.charCodeAt(at - 1) === 38 /* & */) && query.charCodeAt(eq) === 61 /* = */) {
      let end = query.indexOf('&', eq + 1);
      if (end < 0) end = query.length;
      return end === eq + 1 ? null : query.slice(eq + 1, end);
    }
    from = at + 1;
  }
  return null;
}

/**
 * The segment at `index` when `path` matches the template segments exactly (same count; literals
 * equal; '*' any non-empty segment), else null.
 */
export function pathValue(path: string, segments: readonly string[], index: number): string | null {
  const n = path.length;
  if (n === 0 || path.charCodeAt(0) !== 47 /* / */) return null;
  let pos = 1;
  let keyStart = -1;
  let keyEnd = -1;
  for (let s = 0; s < segments.length; s++) {
    if (pos > n) return null;
    let end = path.indexOf('/', pos);
    if (end < 0) end = n;
    if (end === pos) return null;
    if (s === index) {
      keyStart = pos;
      keyEnd = end;
    } else {
      const literal = segments[s];
      if (literal !== '*' && (end - pos !== literal.length || !path.startsWith(literal, pos))) return null;
    }
    pos = end + 1;
  }
  // All of the path consumed (a trailing '/' is tolerated).
  if (pos < n) return null;
  return path.slice(keyStart, keyEnd);
}
