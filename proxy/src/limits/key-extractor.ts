// Compiles a hot-key rule's `key` into a function answering the key value of a request, or null
// when the request has none (the rule then does not apply). No regular expressions; the hot-key
// tables take the value as a range of the request's own string, so nothing is allocated.
import type { RequestContext } from '../request-context.ts';
import { parseHotKeySpec } from '../rules/hot-key-spec.ts';

export type KeyExtractor = (ctx: RequestContext) => string | null;

/** Where a request's key value lies: `source.slice(start, end)`, left unsliced. */
export class KeyRange {
  source = '';
  start = 0;
  end = 0;

  set(source: string, start: number, end: number): true {
    this.source = source;
    this.start = start;
    this.end = end;
    return true;
  }
}

/** Writes where the request's key value lies into `into`; false when the request has none. */
export type KeyRangeExtractor = (ctx: RequestContext, into: KeyRange) => boolean;

/** Throws on a key the rules validation would have refused. */
export function compileKeyExtractor(text: string): KeyExtractor {
  const range = compileKeyRange(text);
  const into = new KeyRange();
  return (ctx) => (range(ctx, into) ? into.source.slice(into.start, into.end) : null);
}

/** As compileKeyExtractor, without making the value a string of its own (the hot-key tables). */
export function compileKeyRange(text: string): KeyRangeExtractor {
  const parsed = parseHotKeySpec(text);
  if (!parsed.ok) throw new Error(parsed.error);
  const spec = parsed.value;
  switch (spec.kind) {
    case 'ip':
      return (ctx, into) => ctx.remoteAddress !== '' && into.set(ctx.remoteAddress, 0, ctx.remoteAddress.length);
    case 'header': {
      const name = spec.name;
      return (ctx, into) => headerRange(ctx.req.headers[name], into);
    }
    case 'query': {
      const name = spec.name;
      return (ctx, into) => queryRange(ctx.query, name, into);
    }
    case 'path': {
      const segments = spec.segments;
      const index = spec.index;
      return (ctx, into) => pathRange(ctx.path, segments, index, into);
    }
  }
}

function headerRange(value: string | string[] | undefined, into: KeyRange): boolean {
  const first = typeof value === 'string' ? value : value !== undefined && value.length > 0 ? value[0] : '';
  return first !== '' && into.set(first, 0, first.length);
}

const scratch = new KeyRange();

/** The raw (undecoded) value of the first `name=` parameter in `query`, or null. */
export function queryValue(query: string, name: string): string | null {
  return queryRange(query, name, scratch) ? query.slice(scratch.start, scratch.end) : null;
}

function queryRange(query: string, name: string, into: KeyRange): boolean {
  const n = name.length;
  let from = 0;
  while (from <= query.length - n) {
    const at = query.indexOf(name, from);
    if (at < 0) return false;
    const eq = at + n;
    if ((at === 0 || query.charCodeAt(at - 1) === 38 /* & */) && query.charCodeAt(eq) === 61 /* = */) {
      let end = query.indexOf('&', eq + 1);
      if (end < 0) end = query.length;
      return end !== eq + 1 && into.set(query, eq + 1, end);
    }
    from = at + 1;
  }
  return false;
}

/**
 * The segment at `index` when `path` matches the template segments exactly (same count; literals
 * equal; '*' any non-empty segment), else null.
 */
export function pathValue(path: string, segments: readonly string[], index: number): string | null {
  return pathRange(path, segments, index, scratch) ? path.slice(scratch.start, scratch.end) : null;
}

function pathRange(path: string, segments: readonly string[], index: number, into: KeyRange): boolean {
  const n = path.length;
  if (n === 0 || path.charCodeAt(0) !== 47 /* / */) return false;
  let pos = 1;
  let keyStart = -1;
  let keyEnd = -1;
  for (let s = 0; s < segments.length; s++) {
    if (pos > n) return false;
    let end = path.indexOf('/', pos);
    if (end < 0) end = n;
    if (end === pos) return false;
    if (s === index) {
      keyStart = pos;
      keyEnd = end;
    } else {
      const literal = segments[s];
      if (literal !== '*' && (end - pos !== literal.length || !path.startsWith(literal, pos))) return false;
    }
    pos = end + 1;
  }
  // All of the path consumed (a trailing '/' is tolerated).
  if (pos < n) return false;
  return into.set(path, keyStart, keyEnd);
}
