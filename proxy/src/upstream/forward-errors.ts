// What an upstream failure means for the answer, the breakers and the balancer. undici reports
// connect failures as the raw socket error (ECONNREFUSED, ...) and later socket trouble as
// UND_ERR_SOCKET, so the error code alone tells them apart.
import { REASONS, rejection, type Rejection } from '../reasons.ts';

/** How an exchange failed, as counted by the breakers ("timeouts and connection failures"). */
export type ForwardError = 'timeout' | 'connect' | 'reset';

export interface FailureKind {
  readonly error: ForwardError | null;
  /** The endpoint could not be reached: take it out of rotation for a while. */
  readonly eject: boolean;
  /** Answer sent when no response header has gone to the client yet. */
  readonly answer: Rejection;
  readonly status: number;
}

function kind(error: ForwardError | null, eject: boolean, answer: Rejection): FailureKind {
  return Object.freeze({ error, eject, answer, status: REASONS[answer.reason].status });
}

export const TIMEOUT = kind('timeout', false, rejection('upstream_timeout'));
export const UNREACHABLE = kind('connect', true, rejection('upstream_unavailable'));
/** The pool was closed (cluster replaced by a reload): not the endpoint's fault. */
export const POOL_CLOSED = kind('connect', false, rejection('upstream_unavailable'));
export const RESET = kind('reset', false, rejection('upstream_unavailable'));
/** The request cannot be expressed upstream (a header value the client library refuses). */
export const UNSENDABLE = kind(null, false, rejection('bad_request'));

const BY_CODE = new Map<string, FailureKind>([
  ['UND_ERR_HEADERS_TIMEOUT', TIMEOUT],
  ['UND_ERR_BODY_TIMEOUT', TIMEOUT],
  ['UND_ERR_CONNECT_TIMEOUT', UNREACHABLE],
  ['ECONNREFUSED', UNREACHABLE],
  ['EHOSTUNREACH', UNREACHABLE],
  ['ENETUNREACH', UNREACHABLE],
  ['EADDRNOTAVAIL', UNREACHABLE],
  ['ENOTFOUND', UNREACHABLE],
  ['EAI_AGAIN', UNREACHABLE],
  ['UND_ERR_CLOSED', POOL_CLOSED],
  ['UND_ERR_DESTROYED', POOL_CLOSED],
  ['UND_ERR_INVALID_ARG', UNSENDABLE],
  ['UND_ERR_NOT_SUPPORTED', UNSENDABLE],
]);

export function classifyFailure(error: Error): FailureKind {
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && BY_CODE.get(code)) || RESET;
}
