// What the listener sees of tracing (SPEC §15): one call per request when `tracing` is configured,
// and nothing at all when it is not — the OpenTelemetry SDK is imported only by loadRequestTracer.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RequestContext } from '../request-context.ts';
import type { TracingRules } from '../rules/types.ts';

export interface RequestTracer {
  /**
   * Called once per request as it arrives, before the guards. A sampled request gets a server
   * span, ended with its verdict when the answer is done, and its forwarded traceparent names
   * that span; an unsampled one costs a header scan and nothing else.
   */
  start(ctx: RequestContext, res: ServerResponse): void;
  /** Exports what is still queued (bounded wait), then stops. */
  shutdown(): Promise<void>;
}

/** Loads the OpenTelemetry SDK and builds the tracer the rules ask for. */
export async function loadRequestTracer(rules: TracingRules, log: Logger): Promise<RequestTracer> {
  const { OtelRequestTracer } = await import('./otel-request-tracer.ts');
  return new OtelRequestTracer(rules, log);
}
