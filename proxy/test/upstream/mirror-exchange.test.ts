// One mirrored exchange, both sides driven by hand: what is compared and how it is counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dispatcher } from 'undici';
import { systemClock } from '../../src/clock.ts';
import { CAPTURE_LIMIT } from '../../src/upstream/body-capture.ts';
import { EndpointPool } from '../../src/upstream/endpoint-pool.ts';
import { MirrorExchange, type MirrorSink } from '../../src/upstream/mirror-exchange.ts';
import type { MismatchSample } from '../../src/upstream/mirror-state.ts';
import { startHttpServer } from '../helpers/servers.ts';

interface Side {
  readonly status: number;
  readonly type: string;
  readonly chunks: readonly Buffer[];
}

function run(method: string, answer: Side, copy: Side | 'error', answerOutcome: { status?: number; error?: string | null } = {}): { result: string; sample: MismatchSample | null; finished: number } {
  const seen = { result: 'none', sample: null as MismatchSample | null, finished: 0 };
  const sink: MirrorSink = {
    copyFinished: () => seen.finished++,
    matched: () => (seen.result = 'match'),
    failed: () => (seen.result = 'error'),
    mismatched: (sample) => {
      seen.result = 'mismatch';
      seen.sample = sample;
    },
  };
  const exchange = new MirrorExchange(method, '/members/10086?x=1', '/members/10086', [], 1000, sink, { ignore: new Set(['/served_at']) });
  const controller = {} as Dispatcher.DispatchController;
  // The copy answers first, then the caller's answer completes.
  if (copy === 'error') exchange.onResponseError();
  else {
    exchange.onResponseStart(controller, copy.status, { 'content-type': copy.type });
    for (const chunk of copy.chunks) exchange.onResponseData(controller, chunk);
    exchange.onResponseEnd();
  }
  assert.equal(seen.result, 'none', 'nothing decided before both sides are complete');
  exchange.onAnswerStart(answer.status, answer.type);
  for (const chunk of answer.chunks) exchange.onAnswerData(chunk);
  exchange.onAnswerDone({ status: answerOutcome.status ?? answer.status, upstreamMs: 1, error: answerOutcome.error ?? null });
  return seen;
}

const json = (value: unknown): Side => ({ status: 200, type: 'application/json', chunks: [Buffer.from(JSON.stringify(value))] });

test('JSON answers equal but for ignored paths and key order match; a differing field is named', () => {
  assert.equal(run('GET', json({ a: 1, served_at: 1 }), json({ served_at: 2, a: 1 })).result, 'match');
  const differs = run('GET', json({ a: 1, b: { c: 2 } }), json({ a: 1, b: { c: 3 } }));
  assert.equal(differs.result, 'mismatch');
  assert.deepEqual(differs.sample?.paths, ['/b/c']);
  assert.equal(differs.sample?.route, '/members/{id}');
  assert.equal(differs.finished, 1);
});

test('a status difference is a mismatch before any body; HEAD compares status only', () => {
  const status = run('GET', json({ a: 1 }), { ...json({ a: 1 }), status: 404 });
  assert.deepEqual([status.result, status.sample?.compared, status.sample?.status], ['mismatch', 'status', [200, 404]]);
  assert.equal(run('HEAD', { status: 200, type: 'application/json', chunks: [] }, { status: 200, type: 'text/plain', chunks: [] }).result, 'match');
});

test('non-JSON bodies are compared byte for byte', () => {
  const text = (s: string): Side => ({ status: 200, type: 'text/plain', chunks: [Buffer.from(s)] });
  assert.equal(run('GET', text('abc'), text('abc')).result, 'match');
  const differs = run('GET', text('abc'), text('abd'));
  assert.deepEqual([differs.result, differs.sample?.compared, differs.sample?.paths], ['mismatch', 'bytes', []]);
});

test('bodies above the capture limit are compared by digest, JSON or not', () => {
  const big = Buffer.alloc(CAPTURE_LIMIT + 10, 'a');
  const split = (b: Buffer): Buffer[] => [b.subarray(0, 1000), b.subarray(1000)];
  const same = run('GET', { status: 200, type: 'application/json', chunks: split(big) }, { status: 200, type: 'application/json', chunks: [big] });
  assert.equal(same.result, 'match');
  const other = Buffer.from(big);
  other[CAPTURE_LIMIT + 5] = 98;
  const differs = run('GET', { status: 200, type: 'application/json', chunks: [big] }, { status: 200, type: 'application/json', chunks: [other] });
  assert.deepEqual([differs.result, differs.sample?.compared], ['mismatch', 'sha256']);
});

test('a failed copy, a failed answer or a caller who left is an error, not a comparison', () => {
  assert.equal(run('GET', json({ a: 1 }), 'error').result, 'error');
  assert.equal(run('GET', json({ a: 1 }), json({ a: 1 }), { status: 499 }).result, 'error');
  assert.equal(run('GET', json({ a: 1 }), json({ a: 1 }), { error: 'reset' }).result, 'error');
});

test('a candidate that trickles its answer is given up at its cluster timeout, body and all', async (t) => {
  const server = await startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // A chunk every 20 ms: undici's idle timeouts never fire, the answer never ends.
    const timer = setInterval(() => res.write(' '), 20);
    res.on('close', () => clearInterval(timer));
  });
  const endpoint = new EndpointPool(server.url, { connections: 1, connectTimeoutMs: 1000 }, systemClock);
  t.after(async () => {
    await endpoint.destroy();
    await server.close();
  });
  const finished = Promise.withResolvers<number>();
  const started = performance.now();
  const seen: string[] = [];
  const sink: MirrorSink = {
    copyFinished: () => finished.resolve(performance.now() - started),
    matched: () => seen.push('match'),
    failed: () => seen.push('error'),
    mismatched: () => seen.push('mismatch'),
  };
  const exchange = new MirrorExchange('GET', '/members/1', '/members/1', [], 200, sink, { ignore: new Set() });
  exchange.send(endpoint);
  const tookMs = await finished.promise;
  assert.ok(tookMs >= 190 && tookMs < 1500, `copy given up after ${tookMs.toFixed(0)} ms`);
  exchange.onAnswerStart(200, 'application/json');
  exchange.onAnswerDone({ status: 200, upstreamMs: 1, error: null });
  assert.deepEqual(seen, ['error']);
});
