// Every rejection sluice answers, in one table: status, body `reason`, and a default message.
// README's "Answers" table documents each one; a test keeps the two in step.
import type { Outcome } from './request-context.ts';

export const REASONS = {
  unknown_caller: { status: 401, message: 'caller account missing or not registered' },
  bad_key: { status: 401, message: 'caller key does not match the account' },
  route_not_allowed: { status: 403, message: 'route is outside the account\'s registered scenario' },
  account_quota: { status: 429, message: 'caller account quota exceeded' },
  hot_key: { status: 429, message: 'too many requests for this key' },
  global_cap: { status: 429, message: 'global capacity reached for this traffic class' },
  circuit_open: { status: 503, message: 'upstream degraded: circuit open' },
  overloaded: { status: 503, message: 'cluster at its adaptive concurrency limit' },
  store_unavailable: { status: 503, message: 'shared limit store unavailable' },
  upstream_unavailable: { status: 502, message: 'upstream unavailable' },
  upstream_timeout: { status: 504, message: 'upstream timed out' },
  bad_request: { status: 400, message: 'malformed request' },
  shutting_down: { status: 503, message: 'sidecar is shutting down' },
  // Answered with the drill's own status (`abort`); 503 is only the table's placeholder.
  fault_injected: { status: 503, message: 'fault injected by a chaos drill' },
} as const satisfies Record<string, { status: number; message: string }>;

export type Reason = keyof typeof REASONS;

/** Rate-limit policy carried by a 429, for the RateLimit-Policy / RateLimit header fields. */
export interface LimitInfo {
  /** Policy name in the header field: "account", "hot_key", "global". */
  readonly policy: string;
  /** Requests allowed per window. */
  readonly quota: number;
  /** Window in seconds. */
  readonly windowSeconds: number;
}

/** A decision not to admit. Made on the rejection path only, so one small object is fine. */
export interface Rejection {
  readonly reason: Reason;
  /** Milliseconds until a retry may succeed; 0 when unknown. */
  readonly retryAfterMs: number;
  readonly limit: LimitInfo | null;
  /**
   * A refusal that stands for an upstream answer (a fault drill's abort): the guards that admitted
   * the request settle with this outcome, as if the upstream had answered it, instead of refunding.
   */
  readonly settlesAs: Outcome | null;
}

/** Status answered for a rejection: the reason's, or the upstream answer it stands for (a drill's abort). */
export function statusOf(rejection: Rejection): number {
  return rejection.settlesAs === null ? REASONS[rejection.reason].status : rejection.settlesAs.status;
}

export function rejection(reason: Reason, retryAfterMs = 0, limit: LimitInfo | null = null, settlesAs: Outcome | null = null): Rejection {
  return { reason, retryAfterMs, limit, settlesAs };
}
