// One mirrored request: the copy sent to the mirror's cluster (its own undici dispatch, bounded
// by that cluster's timeout) and a tap on the caller's answer; when both are complete they are
// compared and the result counted. The copy's answer goes nowhere but here, so it can neither
// delay nor change nor fail the caller's.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { BodyCapture } from './body-capture.ts';
import type { EndpointPool } from './endpoint-pool.ts';
import { diffJson } from './json-compare.ts';
import type { MismatchSample } from './mirror-state.ts';
import type { Outcome, ResponseTap } from '../request-context.ts';
import { routeTemplate } from './route-template.ts';
import { isSendableHead, isSendablePath } from './sendable.ts';

/** What the exchange reports to its mirror, once. */
export interface MirrorSink {
  /** The copy is finished (answered, failed or timed out): its in-flight slot is free. */
  copyFinished(): void;
  matched(): void;
  failed(): void;
  mismatched(sample: MismatchSample): void;
}

export interface MirrorCompareOptions {
  readonly ignore: ReadonlySet<string>;
}

const NO_BODY = 'HEAD';
const COPY_DEADLINE = new Error('mirrored copy exceeded its cluster timeout');

function abortCopy(exchange: MirrorExchange): void {
  exchange.abort();
}

export class MirrorExchange implements Dispatcher.DispatchOptions, Dispatcher.DispatchHandler, ResponseTap {
  // undici dispatch options
  path: string;
  method: string;
  headers: string[];
  body: null;
  headersTimeout: number;
  bodyTimeout: number;
  private readonly sink: MirrorSink;
  private readonly options: MirrorCompareOptions;
  private readonly requestPath: string;
  // the caller's answer
  private answerStatus: number;
  private answerJson: boolean;
  private readonly answerBody: BodyCapture;
  private answerState: 0 | 1 | 2; // pending, complete, failed
  // the copy's answer
  private copyStatus: number;
  private copyJson: boolean;
  private readonly copyBody: BodyCapture;
  private copyState: 0 | 1 | 2;
  private controller: Dispatcher.DispatchController | null;
  private deadline: NodeJS.Timeout | null;
  private readonly timeoutMs: number;

  constructor(method: string, url: string, path: string, headers: string[], timeoutMs: number, sink: MirrorSink, options: MirrorCompareOptions) {
    this.path = url;
    this.method = method;
    this.headers = headers;
    this.body = null;
    this.headersTimeout = timeoutMs;
    this.bodyTimeout = timeoutMs;
    this.sink = sink;
    this.options = options;
    this.requestPath = path;
    this.answerStatus = 0;
    this.answerJson = false;
    this.answerBody = new BodyCapture();
    this.answerState = 0;
    this.copyStatus = 0;
    this.copyJson = false;
    this.copyBody = new BodyCapture();
    this.copyState = 0;
    this.controller = null;
    this.deadline = null;
    this.timeoutMs = timeoutMs;
  }

  /** Sends the copy. Never throws: a copy that cannot be sent is an error result. */
  send(endpoint: EndpointPool): void {
    this.path = endpoint.pathPrefix === '' ? this.path : endpoint.pathPrefix + this.path;
    if (!isSendablePath(this.path) || !isSendableHead(this.headers)) {
      // A head undici refuses would cost the mirror's pool a connection slot (sendable.ts).
      this.copyEnded(2);
      return;
    }
    // The whole copy, body included, within the cluster's timeout: a trickling candidate must not
    // hold its in-flight slot for longer (undici's own timeouts only bound the gaps).
    this.deadline = setTimeout(abortCopy, this.timeoutMs, this);
    this.deadline.unref();
    try {
      endpoint.pool.dispatch(this, this);
    } catch {
      this.copyEnded(2);
    }
  }

  // The caller's answer (ResponseTap).

  onAnswerStart(status: number, contentType: string): void {
    this.answerStatus = status;
    this.answerJson = isJson(contentType);
  }

  onAnswerData(chunk: Buffer): void {
    this.answerBody.add(chunk);
  }

  onAnswerDone(outcome: Outcome): void {
    // Complete only when the upstream's answer was relayed whole: the status seen at the head is
    // still the one reported (a caller leaving turns it into 499) and nothing failed.
    const complete = outcome.error === null && this.answerStatus !== 0 && outcome.status === this.answerStatus;
    this.answerState = complete ? 1 : 2;
    this.settle();
  }

  // The copy's answer (undici handler).

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Given up while still queued in the pool: never sent, so it cannot outlive its slot.
    if (this.copyState !== 0) controller.abort(COPY_DEADLINE);
  }

  /** The copy took longer than its cluster's timeout: given up, counted as an error. */
  abort(): void {
    this.deadline = null;
    this.controller?.abort(COPY_DEADLINE);
    this.copyEnded(2);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.copyStatus = statusCode;
    const type = headers['content-type'];
    this.copyJson = isJson(typeof type === 'string' ? type : '');
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.copyState === 0) this.copyBody.add(chunk);
  }

  onResponseEnd(): void {
    this.copyEnded(1);
  }

  onResponseError(): void {
    this.copyEnded(2);
  }

  private copyEnded(state: 1 | 2): void {
    if (this.copyState !== 0) return;
    this.copyState = state;
    if (this.deadline !== null) {
      clearTimeout(this.deadline);
      this.deadline = null;
    }
    this.sink.copyFinished();
    this.settle();
  }

  private settle(): void {
    if (this.answerState === 0 || this.copyState === 0) return;
    if (this.answerState === 2 || this.copyState === 2) {
      this.sink.failed();
      return;
    }
    const sample = this.compare();
    if (sample === null) this.sink.matched();
    else this.sink.mismatched(sample);
  }

  /** null when the answers agree; else what differs. */
  private compare(): MismatchSample | null {
    if (this.answerStatus !== this.copyStatus) return this.sample([], 'status');
    if (this.method === NO_BODY) return null;
    const a = this.answerBody;
    const b = this.copyBody;
    if (a.hashed || b.hashed) {
      // Above the capture limit only digests are known, JSON or not.
      return a.size === b.size && a.digest() === b.digest() ? null : this.sample([], 'sha256');
    }
    const left = a.body();
    const right = b.body();
    if (this.answerJson && this.copyJson) {
      const parsedLeft = parse(left);
      const parsedRight = parse(right);
      if (parsedLeft !== INVALID && parsedRight !== INVALID) {
        const paths = diffJson(parsedLeft, parsedRight, this.options.ignore);
        return paths.length === 0 ? null : this.sample(paths, 'json');
      }
    }
    return left.equals(right) ? null : this.sample([], 'bytes');
  }

  private sample(paths: readonly string[], compared: MismatchSample['compared']): MismatchSample {
    return {
      at: new Date().toISOString(),
      method: this.method,
      route: routeTemplate(this.requestPath),
      status: [this.answerStatus, this.copyStatus],
      paths,
      compared,
    };
  }
}

const INVALID = Symbol('invalid JSON');

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return INVALID;
  }
}

function isJson(contentType: string): boolean {
  // application/json, application/problem+json, ...; parameters (charset) ignored.
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}
