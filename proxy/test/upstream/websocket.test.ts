import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { UpstreamCluster } from '../../src/upstream/cluster.ts';
import { WebSocketForwarder } from '../../src/upstream/websocket.ts';
import { freePort, startHttpServer, type TestServer } from '../helpers/servers.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { clusterRules } from './harness.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const accept = (key: string): string => createHash('sha1').update(key + GUID).digest('base64');

/** An upstream that completes the WebSocket handshake and then echoes every byte. */
async function startEchoUpstream(seen: IncomingMessage[], open: Set<Duplex>): Promise<TestServer> {
  const server = await startHttpServer((req, res) => res.end('not an upgrade'));
  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    seen.push(req);
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    socket.pipe(socket);
  });
  return {
    ...server,
    close: async () => {
      for (const socket of open) socket.destroy();
      await server.close();
    },
  };
}

async function startWsSidecar(cluster: UpstreamCluster, forwarder: WebSocketForwarder): Promise<TestServer> {
  const server = await startHttpServer((req, res) => res.end());
  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => forwarder.upgrade(req, socket, head, cluster));
  return server;
}

/** Raw client: sends the handshake, resolves with the response head and the socket. */
function handshake(port: number, key: string, extra = ''): Promise<{ head: string; socket: Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffered = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before the handshake answer: ${buffered.toString('latin1')}`)));
    socket.on('data', function onData(data: Buffer) {
      buffered = Buffer.concat([buffered, data]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.removeAllListeners('close');
      resolve({ head: buffered.subarray(0, end).toString('latin1'), socket, rest: buffered.subarray(end + 4) });
    });
    socket.write(
      'GET /live/members?x=1 HTTP/1.1\r\nHost: members.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );
  });
}

function readExactly(socket: Socket, length: number, initial: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = initial;
    const check = (): boolean => {
      if (got.length < length) return false;
      socket.off('data', onData);
      resolve(got.subarray(0, length));
      return true;
    };
    const onData = (data: Buffer): void => {
      got = Buffer.concat([got, data]);
      check();
    };
    if (check()) return;
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed early')));
  });
}

describe('WebSocket upgrades pass through', () => {
  const closers: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  test('the 101 handshake passes and bytes flow both ways', async () => {
    const seen: IncomingMessage[] = [];
    const upstreamSockets = new Set<Duplex>();
    const upstream = await startEchoUpstream(seen, upstreamSockets);
    closers.push(() => upstream.close());
    const cluster = new UpstreamCluster(clusterRules([upstream.url]));
    closers.push(() => cluster.destroy());
    const forwarder = new WebSocketForwarder();
    closers.push(() => forwarder.close());
    const sidecar = await startWsSidecar(cluster, forwarder);
    closers.push(() => sidecar.close());

    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const { head, socket, rest } = await handshake(sidecar.port, key, 'X-Request-Id: ws-1\r\nTE: trailers\r\n');
    closers.push(() => void socket.destroy());
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, new RegExp(`sec-websocket-accept: ${accept(key).replace(/[+/=]/g, '\\$&')}`, 'i'));

    const upgrade = await waitFor(() => seen[0]);
    assert.equal(upgrade.url, '/live/members?x=1');
    assert.equal(upgrade.headers.host, 'members.example');
    assert.equal(upgrade.headers['x-request-id'], 'ws-1');
    assert.equal(upgrade.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(upgrade.headers.te, undefined);

    const payload = Buffer.from('\x81\x05hello and more bytes both ways', 'latin1');
    socket.write(payload);
    assert.deepEqual(await readExactly(socket, payload.length, rest), payload);

    // Closing the forwarder tears down both sides of the tunnel.
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    forwarder.close();
    await closed;
    await waitFor(() => upstreamSockets.size === 0, { message: 'upstream side closed' });
  });

  test('an upgrade to a refused endpoint closes the client socket and ejects the endpoint', async () => {
    const port = await freePort();
    const cluster = new UpstreamCluster(clusterRules([`http://127.0.0.1:${port}`]));
    closers.push(() => cluster.destroy());
    const forwarder = new WebSocketForwarder();
    closers.push(() => forwarder.close());
    const sidecar = await startWsSidecar(cluster, forwarder);
    closers.push(() => sidecar.close());

    await assert.rejects(handshake(sidecar.port, 'AQIDBAUGBwgJCgsMDQ4PEC=='), /closed before the handshake answer/);
    assert.equal(cluster.describe().endpoints[0].ejected, true);
  });
});
