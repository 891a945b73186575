// `METHOD /path` patterns of an account's routes: `*` matches one path segment, a final `**`
// matches the rest (zero or more segments). The method may be `*` for any method.

export interface RoutePattern {
  readonly text: string;
  /** Upper-case method, or null for any method. */
  readonly method: string | null;
  /** Path segments after the leading '/': literals, '*' or a final '**'. */
  readonly segments: readonly string[];
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const METHOD = /^([A-Z]+|\*)$/;

export function parseRoutePattern(text: string): Parsed<RoutePattern> {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 2) return fail(text, "must be 'METHOD /path', e.g. 'GET /members/*'");
  const [method, path] = parts;
  if (!METHOD.test(method)) return fail(text, 'method must be upper case letters (GET, POST, ...) or *');
  if (!path.startsWith('/')) return fail(text, "path must start with '/'");
  if (/[?#]/.test(path)) return fail(text, 'path must not contain a query string or fragment');
  const segments = path === '/' ? [] : path.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '') return fail(text, 'path has an empty segment');
    if (segment === '**' && i !== segments.length - 1) return fail(text, "'**' may only be the last segment");
    if (segment !== '*' && segment !== '**' && segment.includes('*')) {
      return fail(text, "'*' must be a whole segment");
    }
  }
  return { ok: true, value: { text, method: method === '*' ? null : method, segments } };
}

function fail(text: string, why: string): Parsed<never> {
  return { ok: false, error: `route '${text}': ${why}` };
}
