// The route of a mismatched mirrored request as shown in /admin/mirrors and the control log: the
// path with every segment that may carry data (digits, long or unusual segments) replaced by
// '{id}', and no query string. `/members/10086/profile` → `/members/{id}/profile`.

const WORD = /^[A-Za-z_-]{1,32}$/;
const VERSION = /^v[0-9]{1,2}$/;

export function routeTemplate(path: string): string {
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    if (segment !== '' && !WORD.test(segment) && !VERSION.test(segment)) segments[i] = '{id}';
  }
  return segments.join('/');
}
