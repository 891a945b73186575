// An account's routes (`METHOD /path`, `*` one segment, a final `**` the rest), compiled once
// into a matcher answering the first matching pattern's text or null. Matching walks the path in
// place: no allocation per request.
import { parseRoutePattern, type RoutePattern } from '../rules/route-pattern.ts';

export interface RouteMatcher {
  readonly patterns: readonly string[];
  /** The matching pattern's text (e.g. `GET /members/*`), or null. */
  match(method: string, path: string): string | null;
}

/** Throws on a pattern the rules validation would have refused. */
export function compileRoutes(patterns: readonly string[]): RouteMatcher {
  const compiled: RoutePattern[] = [];
  for (const text of patterns) {
    const parsed = parseRoutePattern(text);
    if (!parsed.ok) throw new Error(parsed.error);
    compiled.push({ ...parsed.value, text: normalize(parsed.value) });
  }
  const texts = compiled.map((p) => p.text);
  return {
    patterns: texts,
    match(method: string, path: string): string | null {
      for (let i = 0; i < compiled.length; i++) {
        const p = compiled[i];
        if ((p.method === null || p.method === method) && matchPath(p.segments, path)) return p.text;
      }
      return null;
    },
  };
}

function normalize(p: RoutePattern): string {
  return `${p.method ?? '*'} /${p.segments.join('/')}`;
}

export function matchPath(segments: readonly string[], path: string): boolean {
  const n = path.length;
  // '/' has no segments.
  let pos = n <= 1 ? n + 1 : 1;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s];
    if (seg === '**') return true;
    if (pos > n) return false;
    let end = path.indexOf('/', pos);
    if (end < 0) end = n;
    if (end === pos) return false;
    if (seg !== '*' && (end - pos !== seg.length || !path.startsWith(seg, pos))) return false;
    pos = end + 1;
  }
  // All of the path consumed (a trailing '/' is tolerated).
  return pos >= n;
}

const MAX_TEMPLATE_SEGMENTS = 8;
const LONG_SEGMENT = 24;

/**
 * A bounded template of a call for the usage profile: `GET /members/*` for `GET /members/10086`.
 * Segments that look like identifiers (numeric, long, or mixed letters and digits of 8+ chars)
 * become `*`, and paths deeper than 8 segments end in `**`, so the distinct templates stay few.
 */
export function callTemplate(method: string, path: string): string {
  let out = method + ' ';
  const n = path.length;
  if (n <= 1) return out + '/';
  let pos = 1;
  for (let count = 0; pos <= n; count++) {
    if (count === MAX_TEMPLATE_SEGMENTS) return out + '/**';
    let end = path.indexOf('/', pos);
    if (end < 0) end = n;
    if (end === n && end === pos) break; // trailing '/'
    out += '/';
    out += looksLikeId(path, pos, end) ? '*' : path.slice(pos, end);
    pos = end + 1;
  }
  return out;
}

/**
 * A 53-bit hash of `callTemplate(method, path)`, computed by the same walk without building the
 * string: two FNV-1a hashes of the template's characters, 32 + 21 bits of them.
 */
export function callTemplateKey(method: string, path: string): number {
  hashA = FNV_SEED_A;
  hashB = FNV_SEED_B;
  feed(method, 0, method.length);
  feed(' ', 0, 1);
  const n = path.length;
  if (n <= 1) feed('/', 0, 1);
  else {
    let pos = 1;
    for (let count = 0; pos <= n; count++) {
      if (count === MAX_TEMPLATE_SEGMENTS) {
        feed('/**', 0, 3);
        break;
      }
      let end = path.indexOf('/', pos);
      if (end < 0) end = n;
      if (end === n && end === pos) break; // trailing '/'
      feed('/', 0, 1);
      if (looksLikeId(path, pos, end)) feed('*', 0, 1);
      else feed(path, pos, end);
      pos = end + 1;
    }
  }
  return (hashA >>> 0) * 0x200000 + ((hashB >>> 0) & 0x1fffff);
}

// The running hashes of callTemplateKey: module state rather than a closure, so no allocation.
let hashA = 0;
let hashB = 0;

function feed(text: string, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    hashA = Math.imul(hashA ^ c, FNV_PRIME);
    hashB = Math.imul(hashB ^ c, FNV_PRIME_B);
  }
}

const FNV_SEED_A = 0x811c9dc5;
const FNV_SEED_B = 0x01000193 ^ 0x5bd1e995;
const FNV_PRIME = 0x01000193;
const FNV_PRIME_B = 0x01000197;

function looksLikeId(path: string, from: number, to: number): boolean {
  const len = to - from;
  if (len === 0) return false;
  if (len >= LONG_SEGMENT) return true;
  let digits = 0;
  for (let i = from; i < to; i++) {
    const c = path.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  return digits === len || (digits > 0 && len >= 8);
}
