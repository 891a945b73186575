// Whole-process: OpenTelemetry spans (SPEC §15). A real sidecar exports over OTLP/HTTP (JSON) to a
// stand-in collector; spans carry the caller's trace id, name the caller's span as parent, and
// carry sluice's verdict; the forwarded traceparent names sluice's span; the caller's sampled
// flag decides; nothing of the SDK is loaded when tracing is off.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { send } from '../helpers/load.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';

const RECORD_LOADS = fileURLToPath(new URL('../helpers/record-loads.ts', import.meta.url));
const ORDER = { 'x-caller-account': 'order-center' };

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function callerTrace(sampled: boolean): { traceId: string; spanId: string; traceparent: string } {
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${sampled ? '01' : '00'}` };
}

async function spansOf(receiver: OtlpReceiver, traceId: string, count = 1): Promise<ReceivedSpan[]> {
  return waitFor(
    () => {
      const found = receiver.spans.filter((s) => s.traceId === traceId);
      return found.length >= count ? found : null;
    },
    { timeoutMs: 10_000, message: `span(s) of trace ${traceId}` },
  );
}

describe('tracing (whole process, OTLP/HTTP JSON receiver)', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;
  let loadsDir: string;

  before(async () => {
    receiver = await startOtlpReceiver();
    loadsDir = await mkdtemp(join(tmpdir(), 'sluice-loads-'));
    stack = await startStack(
      (ports) => memberServiceRules(ports, `tracing: { otlp: "${receiver.url}/v1/traces", sample: 0.5, service_name: member-sidecar }\n`),
      { env: { NODE_OPTIONS: `--import=${RECORD_LOADS}`, SLUICE_TEST_LOADS_FILE: join(loadsDir, 'traced.txt') } },
    );
  });

  after(async () => {
    await stack?.close();
    await receiver?.close();
    await rm(loadsDir, { recursive: true, force: true });
  });

  it("a sampled caller's request: a server span in the caller's trace, its parent the caller's span, with sluice's verdict", async () => {
    const caller = callerTrace(true);
    const answer = await send(stack.sidecar.url, '/members/42', { ...ORDER, traceparent: caller.traceparent });
    assert.equal(answer.status, 200);
    const [span] = await spansOf(receiver, caller.traceId);
    assert.equal(span.parentSpanId, caller.spanId, 'child of the incoming traceparent');
    assert.equal(span.kind, 2, 'kind server');
    assert.equal(span.serviceName, 'member-sidecar');
    assert.deepEqual(
      {
        account: span.attributes['sluice.account'],
        class: span.attributes['sluice.class'],
        cluster: span.attributes['sluice.cluster'],
        verdict: span.attributes['sluice.verdict'],
        reason: span.attributes['sluice.reason'],
        status: span.attributes['http.response.status_code'],
      },
      { account: 'order-center', class: 'order', cluster: 'primary', verdict: 'admitted', reason: '', status: 200 },
    );
    // The upstream saw sluice's span as the parent, in the same trace.
    const forwarded = stack.primary.received.find((r) => String(r.headers.traceparent ?? '').includes(caller.traceId));
    assert.equal(forwarded?.headers.traceparent, `00-${caller.traceId}-${span.spanId}-01`);
    assert.ok(receiver.contentTypes.has('application/json'), `JSON encoding: ${[...receiver.contentTypes].join(', ')}`);
  });

  it('a refused request: the span says rejected, why, and the status', async () => {
    const caller = callerTrace(true);
    const answer = await send(stack.sidecar.url, '/members/42', { 'x-caller-account': 'nobody', traceparent: caller.traceparent });
    assert.equal(answer.status, 401);
    const [span] = await spansOf(receiver, caller.traceId);
    assert.equal(span.attributes['sluice.verdict'], 'rejected');
    assert.equal(span.attributes['sluice.reason'], 'unknown_caller');
    assert.equal(span.attributes['http.response.status_code'], 401);
    assert.equal(span.parentSpanId, caller.spanId);
  });

  it("the caller's sampled flag decides: 20 sampled all traced, 20 unsampled none and forwarded untouched", async () => {
    const sampled = Array.from({ length: 20 }, () => callerTrace(true));
    const unsampled = Array.from({ length: 20 }, () => callerTrace(false));
    // Unsampled first: spans leave in order, so one made by mistake would arrive before the last sampled one.
    for (const [i, caller] of [...unsampled, ...sampled].entries()) {
      const answer = await send(stack.sidecar.url, `/members/${i}`, { ...ORDER, traceparent: caller.traceparent });
      assert.equal(answer.status, 200);
    }
    for (const caller of sampled) await spansOf(receiver, caller.traceId);
    const unsampledIds = new Set(unsampled.map((c) => c.traceId));
    assert.equal(receiver.spans.filter((s) => unsampledIds.has(s.traceId)).length, 0, 'no span for an unsampled caller');
    for (const caller of unsampled) {
      const got = stack.primary.received.find((r) => String(r.headers.traceparent ?? '').includes(caller.traceId));
      assert.equal(got?.headers.traceparent, caller.traceparent, 'an unsampled traceparent goes upstream as it came');
    }
  });

  it('requests without a traceparent are roots, sampled at `sample` (0.5 of 400)', async () => {
    const before = new Set(receiver.spans.map((s) => s.traceId));
    const n = 400;
    for (let i = 0; i < n; i++) assert.equal((await send(stack.sidecar.url, `/members/r${i}`, ORDER)).status, 200);
    const marker = callerTrace(true);
    await send(stack.sidecar.url, '/members/marker', { ...ORDER, traceparent: marker.traceparent });
    await spansOf(receiver, marker.traceId);
    const roots = receiver.spans.filter((s) => !before.has(s.traceId) && s.parentSpanId === '' && s.traceId !== marker.traceId);
    console.log(`roots traced: ${roots.length} of ${n} at sample 0.5; batches received so far: ${receiver.batches}`);
    // Binomial(400, 0.5): sd 10; six sd either side.
    assert.ok(roots.length > 140 && roots.length < 260, `${roots.length} roots traced`);
    // A traced root's upstream request names it as parent.
    const root = roots[0];
    const forwarded = stack.primary.received.find((r) => r.headers.traceparent === `00-${root.traceId}-${root.spanId}-01`);
    assert.ok(forwarded, 'the forwarded traceparent of a root names its span');
  });

  it('the SDK is loaded only when tracing is configured', async () => {
    const traced = await readFile(join(loadsDir, 'traced.txt'), 'utf8');
    assert.match(traced, /@opentelemetry\/sdk-trace-base/, 'the recorder sees the SDK when tracing is on');
    assert.match(traced, /tracing\/otel-request-tracer\.ts/);
    const off = await startStack((ports) => memberServiceRules(ports), {
      env: { NODE_OPTIONS: `--import=${RECORD_LOADS}`, SLUICE_TEST_LOADS_FILE: join(loadsDir, 'off.txt') },
    });
    try {
      assert.equal((await send(off.sidecar.url, '/members/1', { ...ORDER, traceparent: callerTrace(true).traceparent })).status, 200);
      const loaded = (await readFile(join(loadsDir, 'off.txt'), 'utf8')).split('\n');
      assert.ok(loaded.some((url) => url.includes('/proxy/src/server.ts')), 'the recorder saw the sidecar load');
      const tracing = loaded.filter((url) => /sdk-trace|exporter-trace|otlp-|@opentelemetry\/resources|otel-request-tracer/.test(url));
      assert.deepEqual(tracing, [], 'nothing of the tracing SDK is loaded');
    } finally {
      await off.close();
    }
  });
});
