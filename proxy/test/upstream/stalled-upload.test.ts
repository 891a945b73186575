// Callers that stop sending mid-body. undici runs none of its timeouts while it writes a request
// body, so each such caller once held an upstream connection for as long as it stayed connected:
// a few of them took the whole pool. Now a streamed body that sends nothing upstream for the
// cluster's timeout is cut (408 to the caller) and the connection goes back to the pool.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { rawExchange } from '../helpers/raw-http.ts';
import { startHttpServer, type TestServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { clusterRules, send, startSidecar, type Sidecar } from './harness.ts';

const CONNECTIONS = 2;
const TIMEOUT_MS = 500;
/** Declares 100 bytes, sends 5, then neither sends more nor closes. */
const STALLED = 'POST /members/42 HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100\r\n\r\nhello';
const STALLED_CHUNKED = 'PUT /members/42 HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n';

describe('a caller whose request body stalls does not hold an upstream connection', () => {
  let upstream: TestServer;
  let sidecar: Sidecar;
  after(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  test(`${2 * CONNECTIONS} stalled uploads on a pool of ${CONNECTIONS}: valid requests answered, the stalled ones 408`, async () => {
    upstream = await startHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{"ok":true}'));
    });
    sidecar = await startSidecar(clusterRules([upstream.url], { connections: CONNECTIONS, timeoutMs: TIMEOUT_MS }));
    const port = Number(new URL(sidecar.url).port);
    const pool = sidecar.cluster.endpoints[0].pool;

    const started = performance.now();
    const stalled = Array.from({ length: 2 * CONNECTIONS }, (_, i) => rawExchange(port, [i % 2 === 0 ? STALLED : STALLED_CHUNKED], { waitMs: 10_000 }));
    // Both connections are taken by stalled bodies before the valid requests arrive.
    await waitFor(() => pool.stats.running === CONNECTIONS, { message: `the pool busy with the stalled uploads: ${JSON.stringify(pool.stats)}` });

    const valid = await Promise.all(Array.from({ length: 4 * CONNECTIONS }, (_, i) => send(sidecar.url, { path: `/members/${i}` })));
    const validMs = Math.round(performance.now() - started);
    assert.deepEqual(
      valid.map((answer) => answer.status),
      valid.map(() => 200),
    );

    const cut = await Promise.all(stalled);
    for (const answer of cut) {
      assert.equal(answer.status, 408, `a stalled upload is answered 408: ${JSON.stringify(answer.text.slice(0, 80))}`);
      assert.ok(answer.closed, 'and its connection closed');
      // Cut after the timeout, not long after it (each waits for a free connection first).
      assert.ok(answer.ms >= TIMEOUT_MS && answer.ms < 8 * TIMEOUT_MS, `cut after ${Math.round(answer.ms)} ms`);
    }
    await waitFor(() => pool.stats.running === 0 && pool.stats.queued === 0, { message: `the pool idle again: ${JSON.stringify(pool.stats)}` });
    assert.deepEqual(sidecar.repeated, [], 'done ran once per request');
    assert.equal(sidecar.outcomes.filter((outcome) => outcome.status === 408).length, cut.length, 'each stalled upload reached done once, as a 408');
    console.log(`valid requests answered 200: ${valid.length} (all within ${validMs} ms of the stalls); stalled uploads cut 408 after ${cut.map((answer) => Math.round(answer.ms)).join(', ')} ms`);
  });
});
