// What a hot-key rule counts by: `path:/members/{id}` (one path segment named in braces),
// `query:NAME`, `header:NAME` or `ip` (the client address).

import type { Parsed } from './route-pattern.ts';

export type HotKeySpec =
  | {
      readonly kind: 'path';
      /** Template segments after the leading '/': literals, '*' or the one `{name}`. */
      readonly segments: readonly string[];
      /** Index of the `{name}` segment whose value is the key. */
      readonly index: number;
    }
  | { readonly kind: 'query'; readonly name: string }
  /** Header names are lower-cased, as Node presents them. */
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'ip' };

const PLACEHOLDER = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const QUERY_NAME = /^[A-Za-z0-9_.\-[\]]+$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const HOT_KEY_SYNTAX = "path:/TEMPLATE/{name}, query:NAME, header:NAME or ip";

export function parseHotKeySpec(text: string): Parsed<HotKeySpec> {
  if (text === 'ip') return { ok: true, value: { kind: 'ip' } };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'query':
      return QUERY_NAME.test(rest)
        ? { ok: true, value: { kind: 'query', name: rest } }
        : fail(text, 'query: needs a parameter name, e.g. query:memberId');
    case 'header':
      return HEADER_NAME.test(rest)
        ? { ok: true, value: { kind: 'header', name: rest.toLowerCase() } }
        : fail(text, 'header: needs a header name, e.g. header:x-member-id');
    case 'path':
      return parsePathTemplate(text, rest);
    default:
      return fail(text, `must be ${HOT_KEY_SYNTAX}`);
  }
}

function parsePathTemplate(text: string, template: string): Parsed<HotKeySpec> {
  if (!template.startsWith('/')) return fail(text, "path template must start with '/', e.g. path:/members/{id}");
  const segments = template.slice(1).split('/');
  let index = -1;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '') return fail(text, 'path template has an empty segment');
    if (PLACEHOLDER.test(segment)) {
      if (index >= 0) return fail(text, 'path template must name exactly one {segment}');
      index = i;
    } else if (/[{}]/.test(segment)) {
      return fail(text, "'{name}' must be a whole segment");
    } else if (segment !== '*' && segment.includes('*')) {
      return fail(text, "'*' must be a whole segment");
    }
  }
  if (index < 0) return fail(text, 'path template must name the key segment in braces, e.g. /members/{id}');
  return { ok: true, value: { kind: 'path', segments, index } };
}

function fail(text: string, why: string): Parsed<never> {
  return { ok: false, error: `hot key '${text}': ${why}` };
}
