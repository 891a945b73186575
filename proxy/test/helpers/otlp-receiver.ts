// A stand-in OpenTelemetry collector: an OTLP/HTTP traces receiver (JSON encoding) on a loopback
// port that keeps every span it is sent, or answers only after `delayMs` (a slow collector).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer, type TestServer } from './servers.ts';

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: AnyValue }[];
}

interface OtlpRequest {
  resourceSpans: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

/** A received span, flattened: ids as hex, attributes as plain values. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 2 = server. */
  readonly kind: number;
  readonly serviceName: string;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
}

export interface OtlpReceiver extends TestServer {
  readonly spans: ReceivedSpan[];
  /** POSTs received (batches). */
  readonly batches: number;
  /** Content types of the posts. */
  readonly contentTypes: Set<string>;
  /** Milliseconds to wait before answering each post. */
  delayMs: number;
}

function plain(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  return value.doubleValue ?? '';
}

function attributes(list: { key: string; value: AnyValue }[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) out[key] = plain(value);
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const state = { batches: 0, delayMs: 0 };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    contentTypes.add(String(req.headers['content-type']));
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest;
    state.batches++;
    for (const resourceSpans of body.resourceSpans) {
      const serviceName = String(attributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
      for (const scope of resourceSpans.scopeSpans) {
        for (const span of scope.spans) {
          spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            serviceName,
            attributes: attributes(span.attributes),
          });
        }
      }
    }
    const answer = (): void => {
      if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    };
    if (state.delayMs > 0) {
      const timer = setTimeout(answer, state.delayMs);
      res.on('close', () => clearTimeout(timer));
    } else answer();
  };
  const server = await startHttpServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  return {
    ...server,
    close: server.close,
    spans,
    contentTypes,
    get batches() {
      return state.batches;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
  };
}
