// One admitted request on its way upstream and back. The exchange object is at once undici's
// dispatch options and its handler, and the outcome handed to `done`: one allocation per request,
// no closures. Both bodies stream with backpressure and are never buffered, except a small request
// body of a cluster with retries, read whole first so that it can be sent again (SPEC §10).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { writeRejection } from '../answer.ts';
import type { EndpointPool } from './endpoint-pool.ts';
import { classifyFailure, POOL_CLOSED, UNSENDABLE, type FailureKind, type ForwardError } from './forward-errors.ts';
import { relayedHeaders, withoutHopByHop } from './hop-by-hop.ts';
import { buildRequestHead, type RequestHead } from './request-head.ts';
import { CLIENT_CLOSED_STATUS, type Outcome, type ResponseTap } from '../request-context.ts';
import { isIdempotent, MAX_RETRY_BODY, type RetryPolicy } from './retry-policy.ts';
import { isSendableHead, isSendablePath } from './sendable.ts';

/** What forwarding needs to know besides the request itself. A request context may implement it. */
export interface ForwardInfo {
  /** Request target sent upstream, path and query: normally `req.url`. */
  readonly url: string;
  /** Client address, appended to x-forwarded-for. */
  readonly remoteAddress: string;
  /** Account named in sluice's own 502/504 answers. */
  readonly accountId: string;
  /** A mirror's listener on the relayed answer, or null/absent. */
  readonly tap?: ResponseTap | null;
  /**
   * True when the caller already listens to the response's 'close' and calls responseClosed(res)
   * from there: the exchange then adds no listener of its own (one listener, not two, per request).
   */
  readonly closeWatched?: boolean;
}

export interface ForwardOutcome<I extends ForwardInfo = ForwardInfo> extends Outcome {
  /** Status sent to the client: the upstream's, sluice's 502/504/400, or 499 when the client left first. */
  readonly status: number;
  /** Milliseconds from forward() to the upstream's response headers, or to the failure. */
  readonly upstreamMs: number;
  /** Why the exchange failed, or null (also null when the client left first). */
  readonly error: ForwardError | null;
  readonly info: I;
  /** URL of the endpoint that served (or last failed) the request; '' when none was tried. */
  readonly endpoint: string;
  /**
   * Attempts that failed and were retried on another endpoint (SPEC §10), and their summed time,
   * ms: each counts for the cluster's breakers as one more failed call.
   */
  readonly failedAttempts: number;
  readonly failedAttemptsMs: number;
}

export type ForwardDone<I extends ForwardInfo = ForwardInfo> = (outcome: ForwardOutcome<I>) => void;

/** The cluster side of an exchange: another endpoint to retry on. */
export interface EndpointSource {
  /** An endpoint in rotation other than `failed`, or null. */
  alternativeTo(failed: EndpointPool): EndpointPool | null;
  readonly endpointCount: number;
  /** The cluster's retry rule, or null: then only refused connections are tried elsewhere. */
  readonly retry: RetryPolicy | null;
}

export { CLIENT_CLOSED_STATUS };

const kExchange = Symbol('sluice.forwardExchange');
/** What the response's listeners reach on the exchange (independent of its info type). */
interface ClientSide {
  readonly controller: Dispatcher.DispatchController | null;
  clientClosed(): void;
}
type TaggedResponse = ServerResponse & { [kExchange]?: ClientSide };

// A reason for aborting; made once, never thrown, so it carries no useful stack anyway.
const CLIENT_GONE = new Error('client closed the connection');
const BAD_UPSTREAM_HEAD = new Error('upstream response head cannot be relayed');
const BODY_STALLED = new Error('the caller stopped sending its request body');
/** Status of an exchange cut because the caller's body stalled (nothing upstream is at fault). */
export const BODY_STALLED_STATUS = 408;

function ignore(): void {}

/** The response closed: its exchange, if any, stops (see ForwardInfo.closeWatched). */
export function responseClosed(res: ServerResponse): void {
  (res as TaggedResponse)[kExchange]?.clientClosed();
}

function onClientClose(this: TaggedResponse): void {
  responseClosed(this);
}

function onClientDrain(this: TaggedResponse): void {
  this[kExchange]?.controller?.resume();
}

function bodyStalled(exchange: { bodyStalled(): void }): void {
  exchange.bodyStalled();
}

function retry(exchange: ForwardExchange<ForwardInfo>, endpoint: EndpointPool): void {
  exchange.send(endpoint);
}

function collectChunk(this: IncomingMessage & { [kBuffer]?: BodyBuffer }, chunk: Buffer): void {
  this[kBuffer]?.chunks.push(chunk);
}

function bodyComplete(this: IncomingMessage & { [kBuffer]?: BodyBuffer }): void {
  const buffered = this[kBuffer];
  if (buffered === undefined) return;
  this[kBuffer] = undefined;
  buffered.exchange.bodyBuffered(Buffer.concat(buffered.chunks), buffered.first);
}

const kBuffer = Symbol('sluice.bodyBuffer');
interface BodyBuffer {
  readonly exchange: { bodyBuffered(body: Buffer, first: EndpointPool): void };
  readonly first: EndpointPool;
  readonly chunks: Buffer[];
}

export class ForwardExchange<I extends ForwardInfo = ForwardInfo>
  implements Dispatcher.DispatchOptions, Dispatcher.DispatchHandler, RequestHead, ForwardOutcome<I>
{
  // undici dispatch options
  path: string;
  method: string;
  headers: string[];
  body: IncomingMessage | Buffer | null;
  headersTimeout: number;
  bodyTimeout: number;
  // outcome
  status: number;
  upstreamMs: number;
  error: ForwardError | null;
  readonly info: I;
  endpoint: string;
  failedAttempts: number;
  failedAttemptsMs: number;
  // state
  hasBody: boolean;
  /** The body is read whole before the first attempt (bufferBody), so a retry can resend it. */
  readonly buffering: boolean;
  /** undici takes this head (sendable.ts): when not, it is answered 400 and never dispatched. */
  readonly sendable: boolean;
  controller: Dispatcher.DispatchController | null;
  private readonly req: IncomingMessage;
  private readonly res: TaggedResponse;
  private readonly source: EndpointSource;
  private readonly done: ForwardDone<I>;
  private readonly startedAt: number;
  private pool: EndpointPool | null;
  private attempts: number;
  private finished: boolean;
  private drainListening: boolean;
  /** The request may be sent again (idempotent method, no body or a buffered one, retry rule). */
  private retryable: boolean;
  /** `pool.inFlight` counts the current attempt. */
  private attemptOpen: boolean;
  private attemptStartedAt: number;
  /** Set when an answer is being discarded for a retry: where the retry goes once it has ended. */
  private retryTo: EndpointPool | null;
  private readonly tap: ResponseTap | null;
  /**
   * While a streamed body is being sent: fires when no chunk of it has gone upstream for
   * `bodyTimeout`. undici's own timeouts do not run while it writes a request body, so without it
   * a caller that stops mid-body holds an upstream connection for as long as it stays connected.
   */
  private bodyTimer: NodeJS.Timeout | null;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    info: I,
    timeoutMs: number,
    source: EndpointSource,
    done: ForwardDone<I>,
    startedAt: number,
  ) {
    this.path = info.url;
    this.method = req.method ?? 'GET';
    this.headers = [];
    this.hasBody = false;
    buildRequestHead(req.rawHeaders, info.remoteAddress, this);
    this.sendable = isSendablePath(info.url) && isSendableHead(this.headers);
    let retryable = source.retry !== null && isIdempotent(this.method);
    let buffering = false;
    if (retryable && this.hasBody) {
      const length = Number(req.headers['content-length']);
      if (length > 0 && length < MAX_RETRY_BODY && req.headers['transfer-encoding'] === undefined) buffering = true;
      else retryable = false;
    }
    this.retryable = retryable;
    this.buffering = buffering;
    this.body = this.hasBody && !buffering ? req : null;
    this.headersTimeout = timeoutMs;
    this.bodyTimeout = timeoutMs;
    this.status = 0;
    this.upstreamMs = 0;
    this.error = null;
    this.info = info;
    this.endpoint = '';
    this.failedAttempts = 0;
    this.failedAttemptsMs = 0;
    this.controller = null;
    this.req = req;
    this.res = res as TaggedResponse;
    this.source = source;
    this.done = done;
    this.startedAt = startedAt;
    this.pool = null;
    this.attempts = 0;
    this.finished = false;
    this.drainListening = false;
    this.attemptOpen = false;
    this.attemptStartedAt = 0;
    this.retryTo = null;
    this.tap = info.tap ?? null;
    this.bodyTimer = null;

    this.res[kExchange] = this;
    if (info.closeWatched !== true) res.on('close', onClientClose);
    res.on('error', ignore);
    // A client that resets mid-upload makes the request stream emit 'error', possibly after the
    // upstream client has let go of it.
    if (this.hasBody) req.on('error', ignore);
  }

  /** Reads the (small) body whole, then sends the request to `first`. */
  bufferBody(first: EndpointPool): void {
    const req = this.req as IncomingMessage & { [kBuffer]?: BodyBuffer };
    req[kBuffer] = { exchange: this, first, chunks: [] };
    req.on('data', collectChunk);
    req.on('end', bodyComplete);
  }

  bodyBuffered(body: Buffer, first: EndpointPool): void {
    this.body = body;
    this.send(first);
  }

  /** Sends the request to `endpoint` (again, after a failed attempt that may be retried). */
  send(endpoint: EndpointPool): void {
    if (this.finished) return;
    if (!this.sendable) {
      // Refused before any pool sees it: a head undici refuses would cost the pool a connection slot.
      this.fail(UNSENDABLE);
      return;
    }
    this.pool = endpoint;
    this.endpoint = endpoint.url;
    this.attempts++;
    endpoint.inFlight++;
    this.attemptOpen = true;
    // The first attempt of a streamed request leaves as the exchange starts: one clock read less.
    this.attemptStartedAt = this.attempts === 1 && !this.buffering ? this.startedAt : performance.now();
    this.controller = null;
    this.path = endpoint.pathPrefix === '' ? this.info.url : endpoint.pathPrefix + this.info.url;
    endpoint.pool.dispatch(this, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.finished) {
      controller.abort(CLIENT_GONE);
      return;
    }
    if (this.body === this.req && this.bodyTimer === null) this.bodyTimer = setTimeout(bodyStalled, this.bodyTimeout, this);
  }

  onBodySent(): void {
    this.bodyTimer?.refresh();
  }

  onRequestSent(): void {
    this.stopBodyTimer();
  }

  /** No chunk of the caller's body for `bodyTimeout`: 408 to the caller, the upstream request aborted. */
  bodyStalled(): void {
    this.bodyTimer = null;
    if (this.finished) return;
    if (this.req.isPaused() && !this.req.readableEnded) {
      // undici paused the body: the upstream is not reading it. Its headers timeout covers that.
      this.bodyTimer = setTimeout(bodyStalled, this.bodyTimeout, this);
      return;
    }
    if (this.status === 0) this.upstreamMs = performance.now() - this.startedAt;
    this.status = BODY_STALLED_STATUS;
    this.endAttempt();
    this.finish(null);
    this.controller?.abort(BODY_STALLED);
    // The rest of the body will never be read: the connection cannot carry another request.
    if (this.res.headersSent) this.res.destroy();
    else {
      this.res.writeHead(BODY_STALLED_STATUS, { connection: 'close', 'content-length': 0 });
      this.res.end();
    }
  }

  private stopBodyTimer(): void {
    if (this.bodyTimer !== null) {
      clearTimeout(this.bodyTimer);
      this.bodyTimer = null;
    }
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (this.finished) {
      controller.abort(CLIENT_GONE);
      return;
    }
    const pool = this.pool;
    pool?.recordSuccess();
    if (this.retryable && pool !== null && this.source.retry?.retriesStatus(statusCode) === true && this.mayRetry(pool)) {
      // The answer is dropped unseen and the request goes elsewhere once it has ended.
      return;
    }
    this.upstreamMs = performance.now() - this.startedAt;
    this.status = statusCode;
    // undici has already parsed the head into `headers` (strings, lower-case names) for every
    // handler. Relaying from that object costs no conversion; relaying from the raw Buffers cost
    // two Buffer→string conversions per field, ~1 µs per answer with a 5-field head (the largest
    // single item of sluice's own CPU in the response path in --cpu-prof). Field names go out in
    // lower case, as HTTP/2 and Envoy send them (names are case-insensitive, RFC 9110 §5.1).
    const raw = controller.rawHeaders;
    const relayed = typeof headers === 'object' && headers !== null ? relayedHeaders(headers) : withoutHopByHop(Array.isArray(raw) ? raw : []);
    // No cork around the answer: Node already sends a Content-Length answer's head with its first
    // chunk, and corks a chunked one's writes itself, one write either way (strace: 1.00 writev
    // per request both ways; the cork and the tick to uncork it cost CPU for nothing).
    try {
      if (statusMessage) this.res.writeHead(statusCode, statusMessage, relayed);
      else this.res.writeHead(statusCode, relayed);
      if (this.tap !== null) this.tap.onAnswerStart(statusCode, contentTypeOf(headers));
    } catch {
      // A head Node refuses to write (invalid status line or field): nothing has been sent yet,
      // so the abort below answers 502.
      controller.abort(BAD_UPSTREAM_HEAD);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.finished || this.retryTo !== null) return;
    if (!this.res.write(chunk)) {
      controller.pause();
      if (!this.drainListening) {
        this.drainListening = true;
        this.res.on('drain', onClientDrain);
      }
    }
    if (this.tap !== null) this.tap.onAnswerData(chunk);
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.endAttempt();
    if (this.retryTo !== null) {
      this.sendRetry();
      return;
    }
    this.res.end();
    this.finish(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    if (this.finished) return;
    if (this.res.destroyed || (this.hasBody && this.req.errored != null)) {
      this.clientClosed();
      return;
    }
    this.endAttempt();
    if (this.retryTo !== null) {
      // The answer being discarded broke off: the retry goes ahead all the same.
      this.sendRetry();
      return;
    }
    const failure = classifyFailure(err);
    const pool = this.pool;
    if (failure.eject && pool !== null) pool.recordConnectFailure();
    if (pool !== null && !this.res.headersSent && failure !== POOL_CLOSED) {
      const policy = this.source.retry;
      if (policy !== null) {
        if (this.retryable && policy.retriesError(failure.error) && this.mayRetry(pool)) {
          this.sendRetry();
          return;
        }
      } else if (failure.eject && this.body === null && this.attempts < this.source.endpointCount) {
        // No retry rule: a refused connection reached nothing, so a body-less request goes elsewhere.
        const next = this.source.alternativeTo(pool);
        if (next !== null) {
          process.nextTick(retry, this, next);
          return;
        }
      }
    }
    this.fail(failure);
  }

  /**
   * Whether the attempt that just failed on `failed` is tried again: tries left, another endpoint
   * in rotation, and room in the budget. When so, `retryTo` is set and the attempt counted failed.
   */
  private mayRetry(failed: EndpointPool): boolean {
    const policy = this.source.retry;
    if (policy === null || this.attempts >= policy.attempts) return false;
    const next = this.source.alternativeTo(failed);
    if (next === null || !policy.admit()) return false;
    this.failedAttempts++;
    this.failedAttemptsMs += performance.now() - this.attemptStartedAt;
    this.retryTo = next;
    return true;
  }

  private sendRetry(): void {
    const next = this.retryTo;
    this.retryTo = null;
    if (next !== null) process.nextTick(retry, this, next);
  }

  private endAttempt(): void {
    if (!this.attemptOpen) return;
    this.attemptOpen = false;
    if (this.pool !== null) this.pool.inFlight--;
  }

  /** The client connection closed: stop the upstream side, report 499 if the answer was not complete. */
  clientClosed(): void {
    if (this.finished) return;
    if (this.status === 0) this.upstreamMs = performance.now() - this.startedAt;
    this.status = CLIENT_CLOSED_STATUS;
    this.retryTo = null;
    this.endAttempt();
    this.finish(null);
    this.controller?.abort(CLIENT_GONE);
  }

  private fail(failure: FailureKind): void {
    if (this.status === 0) {
      this.upstreamMs = performance.now() - this.startedAt;
    }
    if (this.res.headersSent) {
      // Too late for an answer of our own: cut the connection so the client sees a broken response.
      this.res.destroy();
    } else {
      this.status = failure.status;
      writeRejection(this.res, failure.answer, this.info.accountId);
    }
    this.finish(failure.error);
  }

  private finish(error: ForwardError | null): void {
    this.finished = true;
    this.stopBodyTimer();
    this.error = error;
    this.done(this);
    if (this.tap !== null) this.tap.onAnswerDone(this);
  }
}

function contentTypeOf(headers: IncomingHttpHeaders): string {
  const type = headers['content-type'];
  return typeof type === 'string' ? type : '';
}
