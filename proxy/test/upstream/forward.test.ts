import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { freePort, startHttpServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { leaveAfterFirstChunk } from '../helpers/leaving-caller.ts';
import { clusterRules, send, startSidecar, type Sidecar } from './harness.ts';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('forwarding to an upstream cluster', () => {
  const toClose: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const item of toClose.reverse()) await item.close();
  });
  async function track<T extends { close(): Promise<void> }>(item: Promise<T>): Promise<T> {
    const value = await item;
    toClose.push(value);
    return value;
  }
  function noRepeats(sidecar: Sidecar): void {
    assert.deepEqual(sidecar.repeated, [], 'done ran once per request');
  }

  test('3 MiB request and response bodies round-trip byte for byte', async () => {
    const answer = randomBytes(3 * 1024 * 1024);
    const upstream = await track(
      startHttpServer(async (req, res) => {
        const body = await readBody(req);
        res.setHeader('x-request-sha256', sha256(body));
        res.setHeader('x-request-bytes', String(body.length));
        res.end(answer);
      }),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url])));
    const upload = randomBytes(3 * 1024 * 1024);

    // Content-Length upload.
    const fixed = await send(sidecar.url, { method: 'POST', path: '/members/upload', headers: { 'content-length': upload.length }, body: upload });
    assert.equal(fixed.status, 200);
    assert.equal(fixed.headers['x-request-sha256'], sha256(upload));
    assert.equal(sha256(fixed.body), sha256(answer));

    // Chunked upload, in uneven pieces.
    const pieces = [upload.subarray(0, 1000), upload.subarray(1000, 2_000_000), upload.subarray(2_000_000)];
    const chunked = await send(sidecar.url, { method: 'PUT', path: '/members/upload', body: pieces });
    assert.equal(chunked.status, 200);
    assert.equal(chunked.headers['x-request-bytes'], String(upload.length));
    assert.equal(chunked.headers['x-request-sha256'], sha256(upload));
    assert.equal(sha256(chunked.body), sha256(answer));

    assert.deepEqual(
      sidecar.outcomes.map((o) => [o.status, o.error, o.endpoint]),
      [
        [200, null, upstream.url],
        [200, null, upstream.url],
      ],
    );
    noRepeats(sidecar);
  });

  test('hop-by-hop and Connection-named request headers do not reach upstream; the rest passes as sent', async () => {
    let seen: IncomingMessage | null = null;
    const upstream = await track(
      startHttpServer((req, res) => {
        seen = req;
        res.end('ok');
      }),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url])));
    const answer = await send(sidecar.url, {
      path: '/members/42?fields=level',
      headers: {
        host: 'members.example:8080',
        connection: 'keep-alive, X-Secret',
        'x-secret': '1',
        'keep-alive': 'timeout=30',
        te: 'trailers',
        'proxy-authorization': 'Basic c2VjcmV0',
        'proxy-connection': 'keep-alive',
        'x-caller-account': 'order-center',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
    });
    assert.equal(answer.status, 200);
    const req = await waitFor(() => seen);
    const names = new Set(Object.keys(req.headers));
    for (const name of ['x-secret', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection', 'transfer-encoding']) {
      assert.equal(names.has(name), false, `${name} must not reach upstream`);
    }
    // The upstream client speaks for its own connection: only its keep-alive, never the caller's list.
    assert.equal(req.headers.connection, 'keep-alive');
    assert.equal(req.headers.host, 'members.example:8080');
    assert.equal(req.url, '/members/42?fields=level');
    assert.equal(req.headers['x-caller-account'], 'order-center');
    assert.equal(req.headers.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    noRepeats(sidecar);
  });

  test('hop-by-hop and Connection-named response headers do not reach the client', async () => {
    // A raw upstream, so the response head is exactly what is written here.
    const upstream = await track(
      startRawUpstream(
        'HTTP/1.1 201 Made\r\n' +
          'Content-Length: 2\r\n' +
          'Connection: X-Internal\r\n' +
          'X-Internal: secret\r\n' +
          'Keep-Alive: timeout=99\r\n' +
          'Proxy-Authenticate: Basic\r\n' +
          'Trailer: x-checksum\r\n' +
          'Set-Cookie: a=1\r\n' +
          'Set-Cookie: b=2\r\n' +
          'X-Kept: yes\r\n' +
          '\r\nok',
      ),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url])));
    const answer = await send(sidecar.url);
    assert.equal(answer.status, 201);
    assert.equal(answer.body.toString(), 'ok');
    assert.equal(answer.headers['x-internal'], undefined);
    assert.equal(answer.headers['proxy-authenticate'], undefined);
    assert.equal(answer.headers.trailer, undefined);
    assert.notEqual(answer.headers['keep-alive'], 'timeout=99');
    assert.equal(answer.headers['x-kept'], 'yes');
    assert.deepEqual(answer.headers['set-cookie'], ['a=1', 'b=2']);
    noRepeats(sidecar);
  });

  test('HEAD, 204 and 304 answers pass through without a body', async () => {
    const upstream = await track(
      startHttpServer((req, res) => {
        if (req.url === '/none') res.writeHead(204).end();
        else if (req.url === '/same') res.writeHead(304, { etag: '"v1"' }).end();
        else res.writeHead(200, { 'content-length': '5', 'content-type': 'text/plain' }).end(req.method === 'HEAD' ? undefined : 'hello');
      }),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url])));
    const head = await send(sidecar.url, { method: 'HEAD', path: '/members/1' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.body.length, 0);
    const none = await send(sidecar.url, { path: '/none' });
    assert.equal(none.status, 204);
    const same = await send(sidecar.url, { path: '/same' });
    assert.equal(same.status, 304);
    assert.equal(same.headers.etag, '"v1"');
    assert.deepEqual(sidecar.outcomes.map((o) => o.status), [200, 204, 304]);
    noRepeats(sidecar);
  });

  test('x-forwarded-for is appended, x-request-id kept or created, traceparent passed', async () => {
    const seen: IncomingMessage[] = [];
    const upstream = await track(
      startHttpServer((req, res) => {
        seen.push(req);
        res.end();
      }),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url])));
    await send(sidecar.url, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'req-1', traceparent: 'tp-1' } });
    await send(sidecar.url);
    await send(sidecar.url);
    assert.equal(seen.length, 3);
    assert.equal(seen[0].headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(seen[0].headers['x-request-id'], 'req-1');
    assert.equal(seen[0].headers.traceparent, 'tp-1');
    assert.equal(seen[1].headers['x-forwarded-for'], '127.0.0.1');
    const created = [seen[1].headers['x-request-id'], seen[2].headers['x-request-id']];
    for (const id of created) assert.match(String(id), UUID);
    assert.notEqual(created[0], created[1]);
    noRepeats(sidecar);
  });

  test('an upstream slower than the timeout gets 504 upstream_timeout', async () => {
    const timers = new Set<NodeJS.Timeout>();
    let upstreamClosed = 0;
    const upstream = await track(
      startHttpServer((req, res) => {
        const timer = setTimeout(() => res.end('late'), 2000);
        timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
          upstreamClosed++;
        });
      }),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url], { timeoutMs: 200 })));
    const started = performance.now();
    const answer = await send(sidecar.url, { path: '/members/1' });
    const elapsed = performance.now() - started;
    assert.equal(answer.status, 504);
    assert.equal(answer.headers['x-sluice-reason'], 'upstream_timeout');
    assert.equal(answer.headers['content-type'], 'application/json');
    const body = JSON.parse(answer.body.toString()) as { reason: string; account: string };
    assert.equal(body.reason, 'upstream_timeout');
    assert.equal(body.account, 'test-account');
    assert.ok(elapsed < 1900, `answered before the upstream did (${Math.round(elapsed)} ms)`);
    const outcome = sidecar.outcomes[0];
    assert.equal(outcome.status, 504);
    assert.equal(outcome.error, 'timeout');
    assert.ok(outcome.upstreamMs >= 150, `upstreamMs ${outcome.upstreamMs}`);
    // The upstream request is abandoned, not left hanging.
    await waitFor(() => upstreamClosed === 1, { message: 'upstream request closed' });
    assert.equal(timers.size, 0);
    noRepeats(sidecar);
  });

  test('a refused port gets 502 upstream_unavailable', async () => {
    const port = await freePort();
    const sidecar = await track(startSidecar(clusterRules([`http://127.0.0.1:${port}`])));
    const answer = await send(sidecar.url, { method: 'POST', headers: { 'content-length': 5 }, body: Buffer.from('hello') });
    assert.equal(answer.status, 502);
    assert.equal(answer.headers['x-sluice-reason'], 'upstream_unavailable');
    assert.equal((JSON.parse(answer.body.toString()) as { reason: string }).reason, 'upstream_unavailable');
    assert.equal(sidecar.outcomes[0].status, 502);
    assert.equal(sidecar.outcomes[0].error, 'connect');
    // A lone endpoint is still tried while ejected: never an error without a try.
    const again = await send(sidecar.url);
    assert.equal(again.status, 502);
    assert.equal(sidecar.outcomes.length, 2);
    assert.equal(sidecar.cluster.describe().endpoints[0].ejected, true);
    noRepeats(sidecar);
  });

  test('load is balanced round-robin across endpoints', async () => {
    const hits = [0, 0];
    const upstreams = await Promise.all(
      [0, 1].map((i) =>
        track(
          startHttpServer((req, res) => {
            hits[i]++;
            res.end(String(i));
          }),
        ),
      ),
    );
    const sidecar = await track(startSidecar(clusterRules(upstreams.map((u) => u.url))));
    for (let i = 0; i < 20; i++) assert.equal((await send(sidecar.url)).status, 200);
    assert.deepEqual(hits, [10, 10]);
    noRepeats(sidecar);
  });

  test('an endpoint refusing connections is ejected: after the first failure, no request errors', async () => {
    const port = await freePort();
    let served = 0;
    const alive = await track(
      startHttpServer(async (req, res) => {
        await readBody(req);
        served++;
        res.end('alive');
      }),
    );
    const dead = `http://127.0.0.1:${port}`;
    const sidecar = await track(startSidecar(clusterRules([dead, alive.url])));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const answer = await send(sidecar.url, { method: 'POST', headers: { 'content-length': 2 }, body: Buffer.from('hi') });
      statuses.push(answer.status);
    }
    // Requests with a body cannot be replayed: the first one sent to the dead endpoint fails.
    const firstFailure = statuses.indexOf(502);
    assert.ok(firstFailure <= 0, `statuses ${statuses.join(',')}`);
    assert.deepEqual(statuses.slice(firstFailure + 1), Array(9 - firstFailure).fill(200));
    const endpoints = sidecar.cluster.describe().endpoints;
    assert.equal(endpoints[0].url, dead);
    assert.equal(endpoints[0].ejected, true);
    assert.equal(typeof endpoints[0].ejectedUntil, 'string');
    assert.equal(endpoints[1].ejected, false);
    assert.equal(served, 10 - (firstFailure + 1));
    noRepeats(sidecar);
  });

  test('a request without a body that meets a refused endpoint is retried on another one', async () => {
    const port = await freePort();
    const alive = await track(startHttpServer((req, res) => res.end('alive')));
    const sidecar = await track(startSidecar(clusterRules([`http://127.0.0.1:${port}`, alive.url])));
    for (let i = 0; i < 6; i++) {
      const answer = await send(sidecar.url);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.toString(), 'alive');
    }
    assert.ok(sidecar.outcomes.every((o) => o.error === null && o.endpoint === alive.url));
    noRepeats(sidecar);
  });

  test('a client leaving mid-response aborts the upstream request', async () => {
    let upstreamRes: ServerResponse | null = null;
    let upstreamClosed = false;
    const upstream = await track(
      startHttpServer((req, res) => {
        upstreamRes = res;
        res.on('close', () => {
          upstreamClosed = true;
        });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk;');
      }),
    );
    // A long timeout, so only the client's departure can end the upstream request.
    const sidecar = await track(startSidecar(clusterRules([upstream.url], { timeoutMs: 60_000 })));
    await leaveAfterFirstChunk(new URL('/stream', sidecar.url));
    await waitFor(() => upstreamClosed, { message: 'upstream saw the request close' });
    assert.equal((upstreamRes as ServerResponse | null)?.writableEnded, false, 'upstream never finished its answer');
    await waitFor(() => sidecar.outcomes.length === 1);
    assert.equal(sidecar.outcomes[0].status, 499);
    assert.equal(sidecar.outcomes[0].error, null);
    noRepeats(sidecar);
  });

  test('a client leaving mid-upload aborts the upstream request', async () => {
    let upstreamBytes = 0;
    let upstreamClosed = false;
    const upstream = await track(
      startHttpServer((req, res) => {
        req.on('data', (data: Buffer) => {
          upstreamBytes += data.length;
        });
        req.on('error', () => {});
        res.on('close', () => {
          upstreamClosed = true;
        });
      }),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url], { timeoutMs: 60_000 })));
    const req = httpRequest(new URL('/upload', sidecar.url), {
      method: 'POST',
      agent: false,
      headers: { 'content-length': String(1024 * 1024) },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(100 * 1024, 1));
    await waitFor(() => upstreamBytes === 100 * 1024, { message: 'first part of the body upstream' });
    req.destroy();
    await waitFor(() => upstreamClosed, { message: 'upstream saw the request close' });
    await waitFor(() => sidecar.outcomes.length === 1);
    assert.equal(sidecar.outcomes[0].status, 499);
    assert.equal(sidecar.outcomes[0].error, null);
    noRepeats(sidecar);
  });

  test('an upstream stalling mid-body past the timeout cuts the client connection', async () => {
    const upstream = await track(
      startHttpServer((req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
      }),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url], { timeoutMs: 200 })));
    const failure = await new Promise<string>((resolve) => {
      const req = httpRequest(new URL('/stall', sidecar.url), { agent: false }, (res) => {
        assert.equal(res.statusCode, 200);
        res.on('data', () => {});
        res.on('end', () => resolve('ended'));
        res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
    assert.notEqual(failure, 'ended', 'a truncated body must not look complete');
    await waitFor(() => sidecar.outcomes.length === 1);
    assert.equal(sidecar.outcomes[0].status, 200);
    assert.equal(sidecar.outcomes[0].error, 'timeout');
    noRepeats(sidecar);
  });

  test('a response streams with backpressure: a client that stops reading stalls the upstream', async () => {
    const total = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let written = 0;
    let blockedSince = 0;
    const upstream = await track(
      startHttpServer((req, res) => {
        res.writeHead(200, { 'content-length': String(total) });
        const pump = (): void => {
          blockedSince = 0;
          while (written < total) {
            written += chunk.length;
            if (!res.write(chunk)) {
              blockedSince = performance.now();
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
      }),
    );
    const sidecar = await track(startSidecar(clusterRules([upstream.url])));
    let received = 0;
    let client: IncomingMessage | null = null;
    const finished = new Promise<void>((resolve, reject) => {
      const req = httpRequest(new URL('/big', sidecar.url), { agent: false }, (res) => {
        client = res;
        res.pause();
        res.on('data', (data: Buffer) => {
          received += data.length;
        });
        res.on('end', resolve);
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    // While the client reads nothing, the upstream ends up waiting for 'drain' for a long while.
    await waitFor(() => blockedSince !== 0 && performance.now() - blockedSince > 300, {
      timeoutMs: 10_000,
      message: 'upstream blocked by backpressure',
    });
    assert.ok(written < total, `upstream stalled before the end (${written} of ${total} bytes written)`);
    (client as IncomingMessage | null)?.resume();
    await finished;
    assert.equal(received, total);
    assert.equal(sidecar.outcomes[0].status, 200);
    assert.equal(sidecar.outcomes[0].error, null);
    noRepeats(sidecar);
  });
});

/** A loopback server answering every request with the same raw bytes. */
async function startRawUpstream(response: string): Promise<{ readonly url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (data: Buffer) => {
      head += data.toString('latin1');
      while (head.includes('\r\n\r\n')) {
        head = head.slice(head.indexOf('\r\n\r\n') + 4);
        socket.write(response);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
