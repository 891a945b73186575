// What the request path knows about one request, on the ground floor so that guards, limits,
// breakers, upstream and the listener can all name it without importing each other.
import type { IncomingMessage } from 'node:http';
import type { Policy } from './policy.ts';
import type { Reason } from './reasons.ts';

/** The part of a compiled account the request path needs; the compiler's account objects satisfy it. */
export interface CompiledAccountRef {
  readonly id: string;
  readonly className: string;
  /** sluice_rejections_total{account,class,reason} and the account's usage profile. */
  countRejection(reason: Reason): void;
}

/**
 * How an admitted request's exchange ended, as the settling guards see it. The forward exchange
 * is one (no allocation per request); an injected fault builds its own.
 */
export interface Outcome {
  /** Status answered: the upstream's, sluice's 502/504, an injected abort's, or 499 when the client left first. */
  readonly status: number;
  /** Milliseconds from sending upstream to the answer's head, or to the failure. */
  readonly upstreamMs: number;
  /** Why the exchange failed, as a short code ('timeout', 'connect', 'reset', 'fault'...), or null. */
  readonly error: string | null;
  /**
   * Attempts that failed and were retried on another endpoint (SPEC §10), and their summed time
   * (part of `upstreamMs`): each is one more failed call for the cluster's breakers. Absent: none.
   */
  readonly failedAttempts?: number;
  readonly failedAttemptsMs?: number;
}

/** Status reported when the client went away before the answer was complete (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * Whether an outcome says anything about the upstream's health: a client that left before the
 * answer, or a WebSocket upgrade handed over to the tunnel, does not.
 */
export function measuresUpstream(outcome: Outcome): boolean {
  return outcome.error !== null || (outcome.status !== CLIENT_CLOSED_STATUS && outcome.status !== 101);
}

/** An error for the breakers: a 5xx answer, a timeout or a connection failure. */
export function isUpstreamError(outcome: Outcome): boolean {
  return outcome.error !== null || outcome.status >= 500;
}

/** The latency the settling guards see: the upstream's, plus any delay a fault drill injected. */
export function latencyOf(ctx: RequestContext, outcome: Outcome): number {
  return outcome.upstreamMs + ctx.injectedMs;
}

/** The outcome of an admitted WebSocket upgrade: handed to the tunnel, measured by nobody. */
export const UPGRADED: Outcome = Object.freeze({ status: 101, upstreamMs: 0, error: null });

/**
 * A listener on the answer relayed to the caller (a mirror comparing it with its copy's). It only
 * observes: the exchange writes to the caller exactly as without it.
 */
export interface ResponseTap {
  /** The upstream's response head, before it is relayed. */
  onAnswerStart(status: number, contentType: string): void;
  /** A body chunk, once handed to the caller's socket (the tap must not modify it). */
  onAnswerData(chunk: Buffer): void;
  /** The exchange finished (complete, failed, or the caller left): exactly once. */
  onAnswerDone(outcome: Outcome): void;
}

/**
 * A place an admitted request holds while it is in flight (an adaptive limit's slot), given back
 * once: `finish` with what its exchange measured, or `cancel` when it tells nothing.
 */
export interface InflightSlot {
  finish(latencyMs: number, isError: boolean): void;
  cancel(): void;
}

/**
 * One object per request, every field set by the constructor so V8 keeps a single shape.
 */
export class RequestContext {
  req: IncomingMessage;
  method: string;
  /** Request target as received (path and query), sent upstream unchanged. */
  url: string;
  /** Path without the query string. */
  path: string;
  /** Raw query string without '?', or '' when none. */
  query: string;
  /** Client address as seen by the listener. */
  remoteAddress: string;
  /** Account id, or 'unknown' for the shared unknown account; '' before identification. */
  accountId: string;
  /** Identified account (compiled), or null before identification. */
  account: CompiledAccountRef | null;
  /** Traffic class name; '' before identification. */
  className: string;
  /** Cluster chosen for forwarding; '' until routing. */
  cluster: string;
  /**
   * Arrival time, ms, on the guards' clock (performance.now() in the listener). The guards judge
   * the request at this instant instead of each reading the clock: a read was ~40 ns here, and a
   * request with every guard on made four.
   */
  startedAt: number;
  /** Set by guards that consumed something which must be refunded if a later guard rejects. */
  consumed: number;
  /** True when a shadow rule would have rejected. */
  shadowed: boolean;
  /** Milliseconds of delay a fault drill injected before forwarding; counted as upstream latency. */
  injectedMs: number;
  /** The adaptive-limit slot the request holds on its cluster, or null. */
  slot: InflightSlot | null;
  /**
   * The policy the request is decided under; set by the listener when the request arrives and
   * cleared once its outcome is settled.
   */
  policy: Policy | null;
  /** Set when a mirror copies this request: the forward exchange reports the answer to it. */
  tap: ResponseTap | null;

  /** The listener watches the response's 'close' and tells the forward exchange (ForwardInfo). */
  get closeWatched(): boolean {
    return true;
  }

  constructor(req: IncomingMessage, url: string, path: string, query: string, startedAt: number) {
    this.req = req;
    this.method = req.method ?? 'GET';
    this.url = url;
    this.path = path;
    this.query = query;
    this.remoteAddress = req.socket.remoteAddress ?? '';
    this.accountId = '';
    this.account = null;
    this.className = '';
    this.cluster = '';
    this.startedAt = startedAt;
    this.consumed = 0;
    this.shadowed = false;
    this.injectedMs = 0;
    this.slot = null;
    this.policy = null;
    this.tap = null;
  }
}
