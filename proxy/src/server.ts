// The listener: wires each request through the policy's guards to its upstream cluster and back.
// It reads exactly one immutable Policy per request (the one in force when the request arrived),
// so a reload never changes the rules under a request already on its way.
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { accessLogFromEnv, type AccessLog } from './access-log.ts';
import { writeRejection } from './answer.ts';
import { answerClientError, HEADERS_CHECK_INTERVAL_MS, overHeaderCount, refuseHeaderCount, refuseUpgradeHeaderCount } from './edge-answers.ts';
import { accountOf } from './guards/account-table.ts';
import { refundGuards, runGuards, settleGuards } from './guards/pipeline.ts';
import type { Verdict } from './guards/guard.ts';
import { countRefusal } from './guards/rejections.ts';
import { measuresUpstream, RequestContext, UPGRADED } from './request-context.ts';
import type { HistogramSeries } from './hot-metrics.ts';
import type { Metrics } from './metrics.ts';
import type { Policy } from './policy.ts';
import type { RequestTracer } from './tracing/request-tracer.ts';
import { REASONS, rejection, statusOf, type Rejection } from './reasons.ts';
import { responseClosed, type ForwardOutcome } from './upstream/forward-exchange.ts';
import { WebSocketForwarder } from './upstream/websocket.ts';
import { listen } from './listen.ts';

export interface PolicySource {
  readonly current: Policy | null;
}

const NOT_READY: Rejection = Object.freeze(rejection('shutting_down'));
const BAD_TARGET: Rejection = Object.freeze(rejection('bad_request'));
const STORE_FAILED: Rejection = Object.freeze(rejection('store_unavailable'));
const UNROUTABLE: Rejection = Object.freeze(rejection('upstream_unavailable'));

export class SidecarServer {
  readonly server: Server;
  private readonly policies: PolicySource;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly accessLog: AccessLog;
  private readonly websockets: WebSocketForwarder;
  private readonly overhead: HistogramSeries;
  private readonly tracer: RequestTracer | null;
  private closing = false;
  private inFlight = 0;
  private drained: (() => void) | null = null;
  /** The one 'close' listener of every response: counts it out and stops its forward exchange. */
  private readonly onResponseClose: (this: ServerResponse) => void;

  /**
   * `accessLog`: the sampled access log, by default as SLUICE_ACCESS_LOG_SAMPLE asks (off when unset).
   * `tracer`: OpenTelemetry spans when the rules configure `tracing`, else null.
   */
  constructor(
    policies: PolicySource,
    metrics: Metrics,
    log: Logger,
    accessLog: AccessLog = accessLogFromEnv(log),
    tracer: RequestTracer | null = null,
  ) {
    this.policies = policies;
    this.tracer = tracer;
    this.metrics = metrics;
    this.log = log;
    this.accessLog = accessLog;
    this.websockets = new WebSocketForwarder();
    this.overhead = metrics.overhead.labels();
    this.onForwardDone = this.onForwardDone.bind(this);
    const server = this;
    this.onResponseClose = function (this: ServerResponse): void {
      server.requestEnded(this);
    };
    this.server = createServer(
      { keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 30_000, connectionsCheckingInterval: HEADERS_CHECK_INTERVAL_MS },
      (req, res) => this.onRequest(req, res),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    // Oversized, late or malformed headers: a plain 431 / 408 / 400, then the connection closes.
    this.server.on('clientError', answerClientError);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (overHeaderCount(req, this.server)) {
      refuseHeaderCount(res);
      return;
    }
    const startedAt = performance.now();
    const policy = this.policies.current;
    if (policy === null || this.closing) {
      res.setHeader('connection', 'close');
      writeRejection(res, NOT_READY, '');
      return;
    }
    const url = req.url ?? '/';
    if (url.charCodeAt(0) !== 47 /* '/' */) {
      writeRejection(res, BAD_TARGET, '');
      return;
    }
    const q = url.indexOf('?');
    const ctx =
      q === -1
        ? new RequestContext(req, url, url, '', startedAt)
        : new RequestContext(req, url, url.slice(0, q), url.slice(q + 1), startedAt);
    ctx.policy = policy;
    if (this.tracer !== null) this.tracer.start(ctx, res);
    this.inFlight++;
    res.on('close', this.onResponseClose);
    const verdict = runGuards(policy.guards, ctx);
    if (verdict === null) this.forward(policy, ctx, res);
    else if (verdict instanceof Promise) {
      verdict.then(
        (late: Verdict) => (late === null ? this.forward(policy, ctx, res) : this.reject(policy, ctx, res, late)),
        () => this.refuseOutside(policy, ctx, res, STORE_FAILED),
      );
    } else this.reject(policy, ctx, res, verdict);
  }

  private forward(policy: Policy, ctx: RequestContext, res: ServerResponse): void {
    // The pools of the policy in force now: a reload while an asynchronous guard was waiting may
    // have replaced (and closed) the ones of the policy the request started under.
    const current = this.policies.current;
    const compiled = accountOf(ctx)?.klass;
    // The class's own cluster, compiled once (compiled-class.ts), while the policy is still the one in force.
    const cluster =
      current === policy && compiled != null && compiled.primaryCluster !== null && ctx.cluster === compiled.primaryName
        ? compiled.primaryCluster
        : (current?.clusters.get(ctx.cluster) ?? policy.clusters.get(ctx.cluster));
    if (cluster === undefined) {
      // Validated rules always route to a known cluster; answered rather than thrown. Nothing
      // was sent: what the guards took goes back.
      refundGuards(policy.guards, ctx);
      this.refuseOutside(policy, ctx, res, UNROUTABLE);
      return;
    }
    const now = performance.now();
    this.overhead.observe((now - ctx.startedAt) / 1000);
    const mirror = policy.mirrors === null ? undefined : policy.mirrors.byCluster.get(ctx.cluster);
    if (mirror === undefined) {
      cluster.forward(ctx.req, res, ctx, this.onForwardDone, now);
      return;
    }
    // The copy leaves after the request itself, on its own dispatch; it only listens to the answer.
    const copy = mirror.prepare(ctx);
    ctx.tap = copy;
    cluster.forward(ctx.req, res, ctx, this.onForwardDone, now);
    if (copy !== null) mirror.send(copy);
  }

  private onForwardDone(outcome: ForwardOutcome<RequestContext>): void {
    const ctx = outcome.info;
    const policy = ctx.policy;
    if (policy === null) return;
    ctx.policy = null;
    settleGuards(policy.settlers, ctx, outcome);
    const account = accountOf(ctx);
    if (measuresUpstream(outcome)) {
      const durations = account?.klass?.upstreamDuration ?? policy.classMetrics.get(ctx.className)?.upstreamDuration;
      durations?.get(ctx.cluster)?.observe(outcome.upstreamMs / 1000);
    }
    if (account !== null) policy.requests.inc(ctx.accountId, ctx.className, ctx.cluster, outcome.status, account);
    else policy.requests.inc(ctx.accountId, ctx.className, ctx.cluster, outcome.status);
    this.accessLog.forwarded(ctx, outcome);
  }

  /** A refusal made outside the guard pipeline (which counts its own): counted here. */
  private refuseOutside(policy: Policy, ctx: RequestContext, res: ServerResponse, verdict: Rejection): void {
    countRefusal(ctx, verdict);
    this.reject(policy, ctx, res, verdict);
  }

  /** Answers a refusal the pipeline has counted. */
  private reject(policy: Policy, ctx: RequestContext, res: ServerResponse, verdict: Rejection): void {
    ctx.policy = null;
    policy.requests.inc(ctx.accountId, ctx.className, '', statusOf(verdict));
    this.accessLog.rejected(ctx, verdict);
    // A body the caller is still sending is not read: close after answering rather than drain it.
    if (!ctx.req.complete) res.setHeader('connection', 'close');
    writeRejection(res, verdict, ctx.accountId);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (overHeaderCount(req, this.server)) {
      refuseUpgradeHeaderCount(socket);
      return;
    }
    const policy = this.policies.current;
    const url = req.url ?? '/';
    if (policy === null || this.closing || url.charCodeAt(0) !== 47) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const q = url.indexOf('?');
    const ctx = new RequestContext(req, url, q === -1 ? url : url.slice(0, q), q === -1 ? '' : url.slice(q + 1), performance.now());
    ctx.policy = policy;
    const proceed = (verdict: Verdict): void => {
      if (verdict !== null) {
        if (verdict === STORE_FAILED) countRefusal(ctx, verdict);
        policy.requests.inc(ctx.accountId, ctx.className, '', statusOf(verdict));
        socket.end(rawRejection(verdict, ctx.accountId));
        return;
      }
      // Handed to the tunnel: the settling guards release what they hold without a measurement.
      settleGuards(policy.settlers, ctx, UPGRADED);
      const cluster = policy.clusters.get(ctx.cluster);
      if (cluster === undefined) {
        socket.destroy();
        return;
      }
      policy.requests.inc(ctx.accountId, ctx.className, ctx.cluster, 101);
      this.websockets.upgrade(req, socket, head, cluster);
    };
    const verdict = runGuards(policy.guards, ctx);
    if (verdict instanceof Promise) verdict.then(proceed, () => proceed(STORE_FAILED));
    else proceed(verdict);
  }

  /** The response closed (answered, failed, or the caller left): `this` is the response. */
  private requestEnded(res: ServerResponse): void {
    this.inFlight--;
    responseClosed(res);
    if (this.inFlight === 0 && this.drained !== null) this.drained();
  }

  listen(host: string, port: number): Promise<void> {
    return listen(this.server, host, port);
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  get activeRequests(): number {
    return this.inFlight;
  }

  /**
   * Graceful drain: stop accepting, let in-flight requests finish (up to `deadlineMs`), then close
   * every connection. Idle keep-alive connections are closed at once; busy ones after their answer.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      const timer = setTimeout(() => this.drained?.(), deadlineMs);
      await new Promise<void>((resolve) => (this.drained = resolve));
      clearTimeout(timer);
    }
    this.server.closeAllConnections();
    this.websockets.close();
    await closed;
    this.log.debug({ event: 'drained' }, 'listener drained');
  }
}

function rawRejection(verdict: Rejection, account: string): string {
  const spec = REASONS[verdict.reason];
  const status = statusOf(verdict);
  const body = JSON.stringify({ error: spec.message, reason: verdict.reason, account, retry_after_ms: Math.ceil(verdict.retryAfterMs) });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
    `x-sluice-reason: ${verdict.reason}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
