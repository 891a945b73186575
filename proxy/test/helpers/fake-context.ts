// A RequestContext over a minimal IncomingMessage-like object: guards read only method, headers
// and the socket's address.
import type { IncomingMessage } from 'node:http';
import { RequestContext } from '../../src/guards/guard.ts';

export interface FakeRequest {
  readonly method?: string;
  /** Path with an optional query string. */
  readonly url?: string;
  readonly headers?: Record<string, string>;
  readonly remoteAddress?: string;
}

/** `startedAt`: the arrival time the guards judge the request at (their clock's now). */
export function fakeContext(r: FakeRequest = {}, startedAt = 0): RequestContext {
  const url = r.url ?? '/';
  const q = url.indexOf('?');
  const req = {
    method: r.method ?? 'GET',
    url,
    headers: r.headers ?? {},
    rawHeaders: Object.entries(r.headers ?? {}).flat(),
    socket: { remoteAddress: r.remoteAddress ?? '127.0.0.1' },
  } as unknown as IncomingMessage;
  return new RequestContext(req, url, q < 0 ? url : url.slice(0, q), q < 0 ? '' : url.slice(q + 1), startedAt);
}
