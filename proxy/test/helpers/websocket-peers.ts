// Both ends of a WebSocket, raw and minimal (no library): an upstream that completes the handshake,
// greets with one text frame naming itself and then echoes every byte; and a client that sends
// the handshake and reads the answer head.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { startHttpServer, type TestServer } from './servers.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** An unmasked text frame (server to client) of a short payload. */
export function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > 125) throw new RangeError('short frames only');
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
}

/** A masked text frame (client to server) of a short payload. */
export function maskedTextFrame(text: string, mask: Buffer = Buffer.from([0x12, 0x34, 0x56, 0x78])): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > 125) throw new RangeError('short frames only');
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

export interface EchoWebSocketServer extends TestServer {
  readonly name: string;
  /** Upgrade requests received, in order. */
  readonly upgrades: IncomingMessage[];
  /** Upgraded sockets still open. */
  readonly open: ReadonlySet<Duplex>;
}

export async function startEchoWebSocketServer(name: string): Promise<EchoWebSocketServer> {
  const upgrades: IncomingMessage[] = [];
  const open = new Set<Duplex>();
  const server = await startHttpServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('websocket only');
  });
  server.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    upgrades.push(req);
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    socket.write(textFrame(`hello from ${name}`));
    socket.pipe(socket);
  });
  return {
    ...server,
    name,
    upgrades,
    open,
    async close() {
      for (const socket of open) socket.destroy();
      await server.close();
    },
  };
}

export interface Handshake {
  /** Status line and header fields, without the blank line. */
  readonly head: string;
  readonly status: number;
  readonly socket: Socket;
  /** Bytes received after the head. */
  readonly rest: Buffer;
}

/** Sends a WebSocket handshake for `path` with extra header lines; resolves with the answer head. */
export function wsHandshake(port: number, path: string, key: string, headers: Readonly<Record<string, string>> = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffered = Buffer.alloc(0);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', fail);
    socket.once('close', () => fail(new Error(`closed before the handshake answer: ${buffered.toString('latin1')}`)));
    socket.on('data', function onData(data: Buffer) {
      buffered = Buffer.concat([buffered, data]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      socket.on('error', () => socket.destroy());
      // Held until the caller reads on (readBytes / readToClose): nothing is lost in between.
      socket.pause();
      const head = buffered.subarray(0, end).toString('latin1');
      resolve({ head, status: Number(head.split(' ')[1]), socket, rest: buffered.subarray(end + 4) });
    });
    const extra = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: members.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );
  });
}

/** Reads until `length` bytes are there (counting `initial`); resolves with exactly those. */
export function readBytes(socket: Socket, length: number, initial: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = initial;
    const done = (): boolean => {
      if (got.length < length) return false;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(got.subarray(0, length));
      return true;
    };
    const onData = (data: Buffer): void => {
      got = Buffer.concat([got, data]);
      done();
    };
    const onClose = (): void => reject(new Error(`closed after ${got.length} of ${length} bytes`));
    if (done()) return;
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

/** Everything until the peer closes (a refusal's body). */
export function readToClose(socket: Socket, initial: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks = [initial];
    if (socket.destroyed || socket.readableEnded) {
      resolve(initial);
      return;
    }
    socket.on('data', (data: Buffer) => chunks.push(data));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
    socket.resume();
  });
}
