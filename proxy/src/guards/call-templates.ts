// The call templates of the usage profile (`GET /members/*`), made once per distinct template
// rather than once per request: a request whose template was seen before costs a hash of its
// path and one map lookup, and no string. Bounded: past `max` distinct templates the string is
// built as before (the profile itself keeps at most its own number of routes).
import { callTemplate, callTemplateKey } from './route-matcher.ts';

const DEFAULT_MAX = 1024;

export class CallTemplates {
  private readonly byKey = new Map<number, string>();
  private readonly max: number;

  constructor(max = DEFAULT_MAX) {
    this.max = max;
  }

  /** `callTemplate(method, path)`, the same string object each time for the same template. */
  of(method: string, path: string): string {
    const key = callTemplateKey(method, path);
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const template = callTemplate(method, path);
    if (this.byKey.size < this.max) this.byKey.set(key, template);
    return template;
  }

  get size(): number {
    return this.byKey.size;
  }
}
