// Requests Node's parser accepts but undici refuses (a second Host line, the target `*`, a body on
// such a head) once took one connection slot out of the endpoint's pool each, for good: after
// `connections` of them every request to the endpoint queued forever (found by the listener fuzz
// near case 6,000). Here: several times the pool's connections of each, over raw sockets, then
// valid requests from many connections at once must still be answered promptly.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { rawExchange } from '../helpers/raw-http.ts';
import { startHttpServer, type TestServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { clusterRules, send, startSidecar, type Sidecar } from './harness.ts';

const CONNECTIONS = 4;
const REPEATS = 3 * CONNECTIONS;

/** The heads that wedged the pool; `connection: close` so the sidecar closes after its answer. */
const UNSENDABLE = {
  'a second Host line': 'GET /members/42 HTTP/1.1\r\nhost: 127.0.0.1\r\nhost: a\r\nconnection: close\r\n\r\n',
  'a second Host line with a body': 'POST /members/42 HTTP/1.1\r\nhost: 127.0.0.1\r\nhost: 127.0.0.1\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello',
  'a second Host line with a chunked body': 'POST /members/42 HTTP/1.1\r\nhost: 127.0.0.1\r\nhost: b\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'the asterisk target': 'OPTIONS * HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n',
};

/** Rejects when `promise` has not settled within `ms`: a hung request fails the test instead of stalling it. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe('requests the upstream client refuses do not use up the pool', () => {
  let upstream: TestServer;
  let sidecar: Sidecar;
  after(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  test(`${REPEATS} of each refused head, then valid requests on ${4 * CONNECTIONS} connections are answered`, async () => {
    upstream = await startHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('{"ok":true}'));
    });
    sidecar = await startSidecar(clusterRules([upstream.url], { connections: CONNECTIONS }));
    const port = Number(new URL(sidecar.url).port);
    const pool = sidecar.cluster.endpoints[0].pool;

    for (const [name, head] of Object.entries(UNSENDABLE)) {
      // In bunches of the pool's size, as the fuzz's concurrent connections sent them.
      for (let sent = 0; sent < REPEATS; sent += CONNECTIONS) {
        const answers = await Promise.all(Array.from({ length: CONNECTIONS }, () => rawExchange(port, [head], { waitMs: 5000 })));
        for (const answer of answers) {
          assert.equal(answer.status, 400, `${name}: answered 400 (${JSON.stringify(answer.text.slice(0, 80))})`);
          assert.ok(answer.closed, `${name}: the connection closed after the answer`);
        }
      }
    }
    assert.equal(pool.stats.queued, 0, `nothing waits in the pool's queue: ${JSON.stringify(pool.stats)}`);

    const started = performance.now();
    const valid = await within(
      Promise.all(Array.from({ length: 4 * CONNECTIONS }, (_, i) => send(sidecar.url, { path: `/members/${i}` }))),
      5000,
      'valid requests after the refused ones',
    );
    const ms = Math.round(performance.now() - started);
    assert.deepEqual(
      valid.map((answer) => answer.status),
      valid.map(() => 200),
    );
    await waitFor(() => pool.stats.running === 0 && pool.stats.queued === 0, { message: `the pool idle again: ${JSON.stringify(pool.stats)}` });
    assert.deepEqual(sidecar.repeated, [], 'done ran once per request');
    const refused = sidecar.outcomes.filter((outcome) => outcome.status === 400).length;
    assert.equal(refused, REPEATS * Object.keys(UNSENDABLE).length, 'every refused head reached done once, as a 400');
    console.log(`refused heads answered 400: ${refused}; then ${valid.length} valid requests answered 200 in ${ms} ms; pool ${JSON.stringify(pool.stats)}`);
  });
});
