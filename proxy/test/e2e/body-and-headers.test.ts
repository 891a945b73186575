// Whole-process: bodies stream through untouched in both directions (3 MiB each way, compared
// byte for byte), hop-by-hop headers stop at the sidecar both ways, x-forwarded-for and
// x-request-id reach the upstream.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startSidecar, type SidecarProcess } from '../helpers/sidecar-process.ts';
import { startHttpServer, type TestServer } from '../helpers/servers.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { leaveAfterFirstChunk } from '../helpers/leaving-caller.ts';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function nodeRequest(url: string, body: Buffer, headers: Record<string, string>): Promise<{ statusCode: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'PUT', headers: { ...headers, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('bodies and headers through the sidecar (whole process)', () => {
  const answer = randomBytes(3 * 1024 * 1024);
  let upstream: TestServer;
  let seen: { headers: IncomingHttpHeaders; bodySha: string; bytes: number } | null = null;
  let dir: string;
  let sidecar: SidecarProcess;
  // The answer a caller leaves halfway: the upstream writes one chunk and waits.
  let streamClosed = false;

  before(async () => {
    upstream = await startHttpServer((req, res) => {
      if (req.url === '/members/9/stream') {
        res.on('close', () => (streamClosed = true));
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk;');
        return;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      req.on('end', () => {
        seen = { headers: req.headers, bodySha: hash.digest('hex'), bytes };
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': answer.length,
          'keep-alive': 'timeout=5',
          'x-upstream-private': 'hop',
          connection: 'x-upstream-private',
        });
        res.end(answer);
      });
    });
    dir = await mkdtemp(join(tmpdir(), 'sluice-bodies-'));
    await writeFile(join(dir, 'rules.yaml'), memberServiceRules({ primary: upstream.port, marketing: upstream.port, backup: upstream.port }, '', { timeout: '60s' }));
    // The long timeout: only the caller's departure can end the held answer's upstream request.
    sidecar = await startSidecar(dir);
  });

  after(async () => {
    await sidecar?.stop();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a 3 MiB request body and a 3 MiB response byte for byte, without hop-by-hop headers', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    // node:http as the client: undici refuses to send hop-by-hop fields at all.
    const res = await nodeRequest(`${sidecar.url}/members/42/photo`, body, {
        'x-caller-account': 'order-center',
        'x-request-id': 'upload-1',
        connection: 'keep-alive, x-secret',
        'x-secret': 'must not pass',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic c2VjcmV0',
    });
    const received = res.body;
    assert.equal(res.statusCode, 200);
    assert.equal(received.length, answer.length);
    assert.equal(sha256(received), sha256(answer));
    assert.equal(res.headers['x-upstream-private'], undefined, 'a header the upstream named in Connection');

    assert.ok(seen !== null);
    assert.equal(seen.bytes, body.length);
    assert.equal(seen.bodySha, sha256(body));
    for (const name of ['x-secret', 'keep-alive', 'te', 'proxy-authorization']) {
      assert.equal(seen.headers[name], undefined, `${name} reached the upstream`);
    }
    assert.equal(seen.headers['x-request-id'], 'upload-1');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('a caller leaving halfway through an answer aborts the upstream request, counted 499', async () => {
    await leaveAfterFirstChunk(`${sidecar.url}/members/9/stream`, { 'x-caller-account': 'order-center' });
    await waitFor(() => streamClosed, { message: 'the upstream saw its request aborted' });
    const counted = async (): Promise<boolean> => {
      const text = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
      return /^sluice_requests_total\{[^}]*account="order-center"[^}]*code="499"[^}]*\} 1$/m.test(text);
    };
    await waitFor(counted, { message: 'sluice_requests_total{code="499"} counted once' });
  });

  it('creates an x-request-id when the caller sent none', async () => {
    const res = await request(`${sidecar.url}/members/7`, { headers: { 'x-caller-account': 'order-center' } });
    await res.body.arrayBuffer();
    assert.equal(res.statusCode, 200);
    assert.match(String(seen?.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});
