// Optional sampled access log: one JSON line for a sampled fraction of requests, forwarded or
// refused (env SLUICE_ACCESS_LOG_SAMPLE, 0..1; default 0 = off). Whether it is on is decided once,
// when the listener is built: off, the request path calls shared no-ops and builds nothing.
// Log lines may name the path (a member id included); metric labels never do.
import type { Logger } from 'pino';
import type { RequestContext } from './request-context.ts';
import { REASONS, statusOf, type Rejection } from './reasons.ts';
import type { ForwardOutcome } from './upstream/forward-exchange.ts';

export interface AccessLog {
  /** The upstream exchange of an admitted request ended (answered, failed, or the client left). */
  forwarded(ctx: RequestContext, outcome: ForwardOutcome): void;
  /** sluice refused the request. */
  rejected(ctx: RequestContext, verdict: Rejection): void;
}

export const noAccessLog: AccessLog = Object.freeze({ forwarded() {}, rejected() {} });

export const ACCESS_LOG_SAMPLE_ENV = 'SLUICE_ACCESS_LOG_SAMPLE';

/** The sample fraction from its environment text; throws on anything but a number in 0..1. */
export function parseAccessLogSample(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 0;
  const sample = Number(text);
  if (!Number.isFinite(sample) || sample < 0 || sample > 1) {
    throw new Error(`${ACCESS_LOG_SAMPLE_ENV}: expected a fraction between 0 and 1, got '${text}'`);
  }
  return sample;
}

/** An access log writing `sample` (0..1) of the requests to `log`; 0 gives the no-op. */
export function createAccessLog(log: Logger, sample: number, random: () => number = Math.random): AccessLog {
  if (!(sample > 0)) return noAccessLog;
  const every = sample >= 1;
  const write = (
    ctx: RequestContext,
    status: number,
    reason: string | null,
    upstreamMs: number | null,
    upstreamError: string | null,
  ): void => {
    if (!every && random() >= sample) return;
    const requestId = ctx.req.headers['x-request-id'];
    log.info(
      {
        event: 'access',
        method: ctx.method,
        path: ctx.path,
        account: ctx.accountId || 'unknown',
        class: ctx.className || 'none',
        cluster: ctx.cluster || 'none',
        status,
        reason,
        shadowed: ctx.shadowed,
        ms: round(performance.now() - ctx.startedAt),
        upstream_ms: upstreamMs === null ? null : round(upstreamMs),
        upstream_error: upstreamError,
        client: ctx.remoteAddress,
        request_id: typeof requestId === 'string' ? requestId : null,
      },
      `${ctx.method} ${ctx.path} ${status}`,
    );
  };
  return {
    forwarded: (ctx, outcome) => write(ctx, outcome.status, null, outcome.upstreamMs, outcome.error),
    rejected: (ctx, verdict) => write(ctx, statusOf(verdict), verdict.reason, null, null),
  };
}

/** The access log the environment asks for. */
export function accessLogFromEnv(log: Logger, env: NodeJS.ProcessEnv = process.env): AccessLog {
  return createAccessLog(log, parseAccessLogSample(env[ACCESS_LOG_SAMPLE_ENV]));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
