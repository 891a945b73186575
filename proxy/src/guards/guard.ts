import type { IncomingMessage } from 'node:http';
import type { Rejection } from '../reasons.ts';

/**
 * What the guards know about one request. One object per request, every field set by the
 * constructor so V8 keeps a single shape.
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
  /** Start time, ms (performance.now()). */
  startedAt: number;
  /** Set by guards that consumed something which must be refunded if a later guard rejects. */
  consumed: number;
  /** True when a shadow rule would have rejected. */
  shadowed: boolean;
  /** The policy that admitted the request, while it is forwarded (the listener's bookkeeping). */
  policy: object | null;

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
    this.policy = null;
  }
}

/** The part of a compiled account the guards need; the compiler's account objects satisfy it. */
export interface CompiledAccountRef {
  readonly id: string;
  readonly className: string;
}

export type Verdict = Rejection | null;

/**
 * One check in the pipeline. `check` answers synchronously when it can (memory store) and with a
 * promise when it must ask the shared store. `refund` undoes what `check` consumed when a later
 * guard rejects the request: quotas count admitted requests only.
 */
export interface Guard {
  readonly name: string;
  check(ctx: RequestContext): Verdict | Promise<Verdict>;
  refund?(ctx: RequestContext): void;
}
