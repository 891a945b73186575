// Writes sluice's own answers (rejections), SPEC §4: JSON body, Retry-After, x-sluice-reason and,
// on 429s, the IETF RateLimit-Policy / RateLimit structured header fields.
import type { ServerResponse } from 'node:http';
import { REASONS, statusOf, type Rejection } from './reasons.ts';

export function writeRejection(res: ServerResponse, rejection: Rejection, account: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const spec = REASONS[rejection.reason];
  const retryMs = Math.max(0, Math.ceil(rejection.retryAfterMs));
  const body = JSON.stringify({
    error: spec.message,
    reason: rejection.reason,
    account,
    retry_after_ms: retryMs,
  });
  const status = statusOf(rejection);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('x-sluice-reason', rejection.reason);
  if (retryMs > 0 || status === 429) res.setHeader('retry-after', String(Math.max(1, Math.ceil(retryMs / 1000))));
  const limit = rejection.limit;
  if (limit !== null) {
    res.setHeader('ratelimit-policy', `"${limit.policy}";q=${limit.quota};w=${limit.windowSeconds}`);
    res.setHeader('ratelimit', `"${limit.policy}";r=0;t=${Math.max(1, Math.ceil(retryMs / 1000))}`);
  }
  res.end(body);
}
