// Structural comparison of two JSON documents for mirrored reads (SPEC §12): key order ignored,
// `ignore` JSON Pointer paths (and everything below them) left out. Answers the JSON Pointer
// paths that differ, at most `limit` of them. The paths name fields, never values; an object key
// that does not look like a field name (a member id used as a key, an e-mail) is shown as '*'.

/** Most differing paths reported per comparison. */
export const MAX_DIFF_PATHS = 20;

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function diffJson(a: unknown, b: unknown, ignore: ReadonlySet<string>, limit = MAX_DIFF_PATHS): string[] {
  const out: string[] = [];
  walk(a as Json, b as Json, '', '', ignore, out, limit);
  return out;
}

/**
 * `exact` is the real pointer (checked against `ignore`); `shown` the one reported, with keys
 * that look like data masked.
 */
function walk(a: Json, b: Json, exact: string, shown: string, ignore: ReadonlySet<string>, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (exact !== '' && ignore.has(exact)) return;
  if (a === b) return;
  const kindA = kindOf(a);
  if (kindA !== kindOf(b)) {
    push(out, shown);
    return;
  }
  if (kindA === 'array') {
    const left = a as Json[];
    const right = b as Json[];
    const n = Math.max(left.length, right.length);
    for (let i = 0; i < n && out.length < limit; i++) {
      const at = `${exact}/${i}`;
      if (i >= left.length || i >= right.length) {
        if (!ignore.has(at)) push(out, `${shown}/${i}`);
      } else walk(left[i], right[i], at, `${shown}/${i}`, ignore, out, limit);
    }
    return;
  }
  if (kindA === 'object') {
    const left = a as Record<string, Json>;
    const right = b as Record<string, Json>;
    for (const key of Object.keys(left)) {
      if (out.length >= limit) return;
      const at = `${exact}/${escapeToken(key)}`;
      const label = `${shown}/${FIELD_NAME.test(key) ? escapeToken(key) : '*'}`;
      if (!Object.hasOwn(right, key)) {
        if (!ignore.has(at)) push(out, label);
      } else walk(left[key], right[key], at, label, ignore, out, limit);
    }
    for (const key of Object.keys(right)) {
      if (out.length >= limit) return;
      if (Object.hasOwn(left, key)) continue;
      const at = `${exact}/${escapeToken(key)}`;
      if (!ignore.has(at)) push(out, `${shown}/${FIELD_NAME.test(key) ? escapeToken(key) : '*'}`);
    }
    return;
  }
  // Two different scalars of the same kind.
  push(out, shown);
}

function kindOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** The whole document differs: reported as '' (the root pointer). Masked keys may repeat: once. */
function push(out: string[], path: string): void {
  if (!out.includes(path)) out.push(path);
}

/** RFC 6901: '~' is written '~0' and '/' is written '~1'. */
export function escapeToken(key: string): string {
  if (!key.includes('~') && !key.includes('/')) return key;
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
