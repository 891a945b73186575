// OpenTelemetry spans for sampled requests (SPEC §15), imported only when `tracing` is
// configured. One server span per sampled request, child of the caller's traceparent; the
// sampler is parent-based (a caller's sampled flag decides), with `sample` as the ratio for roots.
// Spans leave in batches from a bounded queue: a dead or slow collector fills the queue and
// spans are dropped, while requests never wait on an export.
import type { ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { RequestContext } from '../request-context.ts';
import type { TracingRules } from '../rules/types.ts';
import type { RequestTracer } from './request-tracer.ts';
import { formatTraceparent, parentNotSampled, setTraceparent, traceparentIndex, tracestateIndex } from './traceparent.ts';

/** Longest wait at shutdown for the last batch. */
const SHUTDOWN_WAIT_MS = 2000;
/** Answers sluice gives after forwarding: the request was admitted, the upstream failed. */
const UPSTREAM_FAILURES: ReadonlySet<string> = new Set(['upstream_unavailable', 'upstream_timeout']);

/** The caller's trace context, as the propagator reads it. */
interface Carrier {
  traceparent: string;
  tracestate: string | undefined;
}

const GETTER: TextMapGetter<Carrier> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (carrier, key) => (key === 'traceparent' ? carrier.traceparent : key === 'tracestate' ? carrier.tracestate : undefined),
};

export class OtelRequestTracer implements RequestTracer {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(rules: TracingRules, log: Logger) {
    const exporter = new OTLPTraceExporter({ url: rules.otlp, timeoutMillis: 5000 });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': rules.serviceName }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(rules.sample) }),
      spanProcessors: [
        new BatchSpanProcessor(exporter, {
          maxQueueSize: 4096,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 1000,
          exportTimeoutMillis: 5000,
        }),
      ],
    });
    // Not registered globally, and the span is never made active: nothing in sluice's request
    // path reads an active context, and a global OpenTelemetry setup in the process is left alone.
    this.tracer = this.provider.getTracer('sluice');
    log.info({ event: 'tracing', otlp: rules.otlp, sample: rules.sample }, `tracing: ${rules.sample * 100}% of root requests to ${rules.otlp}`);
  }

  start(ctx: RequestContext, res: ServerResponse): void {
    const raw = ctx.req.rawHeaders;
    const at = traceparentIndex(raw);
    // An unsampled caller's trace: nothing to record, the header goes upstream as it came.
    if (at !== -1 && parentNotSampled(raw[at + 1])) return;
    let parent: Context = ROOT_CONTEXT;
    if (at !== -1) {
      const stateAt = tracestateIndex(raw);
      parent = this.propagator.extract(ROOT_CONTEXT, { traceparent: raw[at + 1], tracestate: stateAt === -1 ? undefined : raw[stateAt + 1] }, GETTER);
    }
    const span = this.tracer.startSpan(ctx.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': ctx.method } }, parent);
    if (!span.isRecording()) return;
    const { traceId, spanId } = span.spanContext();
    setTraceparent(raw, at, formatTraceparent(traceId, spanId, true));
    res.once('close', () => endSpan(span, ctx, res));
  }

  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)));
    await Promise.race([this.provider.shutdown().catch(() => {}), waited]);
    clearTimeout(timer);
  }
}

function endSpan(span: Span, ctx: RequestContext, res: ServerResponse): void {
  const header = res.getHeader('x-sluice-reason');
  const reason = typeof header === 'string' ? header : '';
  const status = res.writableFinished ? res.statusCode : 499;
  span.setAttribute('sluice.account', ctx.accountId);
  span.setAttribute('sluice.class', ctx.className);
  span.setAttribute('sluice.cluster', ctx.cluster);
  span.setAttribute('sluice.verdict', reason === '' || UPSTREAM_FAILURES.has(reason) ? 'admitted' : 'rejected');
  span.setAttribute('sluice.reason', reason);
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
  span.end();
}
