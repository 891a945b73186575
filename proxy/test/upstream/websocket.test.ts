import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { UpstreamCluster } from '../../src/upstream/cluster.ts';
import { WebSocketForwarder } from '../../src/upstream/websocket.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { freePort, startHttpServer, type TestServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { acceptKey, readBytes, startEchoWebSocketServer, textFrame, wsHandshake } from '../helpers/websocket-peers.ts';
import { clusterRules } from './harness.ts';

async function startWsSidecar(cluster: UpstreamCluster, forwarder: WebSocketForwarder): Promise<TestServer> {
  const server = await startHttpServer((req, res) => res.end());
  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => forwarder.upgrade(req, socket, head, cluster));
  return server;
}

describe('WebSocket upgrades pass through', () => {
  const closers: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('the 101 handshake passes and bytes flow both ways', async () => {
    const upstream = await startEchoWebSocketServer('upstream');
    closers.push(() => upstream.close());
    const cluster = new UpstreamCluster(clusterRules([upstream.url]));
    closers.push(() => cluster.destroy());
    const forwarder = new WebSocketForwarder();
    closers.push(() => forwarder.close());
    const sidecar = await startWsSidecar(cluster, forwarder);
    closers.push(() => sidecar.close());

    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const { head, socket, rest } = await wsHandshake(sidecar.port, '/live/members?x=1', key, { 'X-Request-Id': 'ws-1', TE: 'trailers' });
    closers.push(() => void socket.destroy());
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, new RegExp(`sec-websocket-accept: ${acceptKey(key).replace(/[+/=]/g, '\\$&')}`, 'i'));

    const upgrade = await waitFor(() => upstream.upgrades[0]);
    assert.equal(upgrade.url, '/live/members?x=1');
    assert.equal(upgrade.headers.host, 'members.example');
    assert.equal(upgrade.headers['x-request-id'], 'ws-1');
    assert.equal(upgrade.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(upgrade.headers.te, undefined);

    const payload = Buffer.from('\x81\x05hello and more bytes both ways', 'latin1');
    socket.write(payload);
    // The echo upstream greets first, then echoes.
    const greeting = textFrame('hello from upstream');
    assert.deepEqual(await readBytes(socket, greeting.length + payload.length, rest), Buffer.concat([greeting, payload]));

    // Closing the forwarder tears down both sides of the tunnel.
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    forwarder.close();
    await closed;
    await waitFor(() => upstream.open.size === 0, { message: 'upstream side closed' });
  });

  test('an upgrade to a refused endpoint closes the client socket and ejects the endpoint', async () => {
    const port = await freePort();
    const cluster = new UpstreamCluster(clusterRules([`http://127.0.0.1:${port}`]));
    closers.push(() => cluster.destroy());
    const forwarder = new WebSocketForwarder();
    closers.push(() => forwarder.close());
    const sidecar = await startWsSidecar(cluster, forwarder);
    closers.push(() => sidecar.close());

    await assert.rejects(wsHandshake(sidecar.port, '/live/members?x=1', 'AQIDBAUGBwgJCgsMDQ4PEC=='), /closed before the handshake answer/);
    assert.equal(cluster.describe().endpoints[0].ejected, true);
  });

  test('a handshake that declares a body is refused at once, without reaching the upstream', async () => {
    const upstream = await startEchoWebSocketServer('upstream');
    closers.push(() => upstream.close());
    const cluster = new UpstreamCluster(clusterRules([upstream.url]));
    closers.push(() => cluster.destroy());
    const forwarder = new WebSocketForwarder();
    closers.push(() => forwarder.close());
    const sidecar = await startWsSidecar(cluster, forwarder);
    closers.push(() => sidecar.close());

    const handshake = 'GET /live/members HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    for (const [framing, body] of [['content-length: 5', 'hello'], ['transfer-encoding: chunked', '5\r\nhello\r\n0\r\n\r\n']]) {
      // Well under the 10 s handshake timeout a relayed request would wait for.
      const answer = await rawExchange(sidecar.port, [`${handshake}${framing}\r\n\r\n${body}`], { waitMs: 3000 });
      assert.equal(answer.status, 400, `${framing}: ${JSON.stringify(answer.text.slice(0, 60))}`);
      assert.ok(answer.closed && answer.ms < 3000, `${framing}: closed after ${Math.round(answer.ms)} ms`);
    }
    assert.equal(upstream.upgrades.length, 0, 'nothing reached the upstream');
  });
});
