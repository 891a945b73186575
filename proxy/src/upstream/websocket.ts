// WebSocket upgrades pass through (SPEC §4) with http-proxy, to an endpoint chosen by the
// cluster's balancer. Host is kept as the caller sent it, like plain requests; x-forwarded-*
// are added and x-request-id kept or created. Any failure closes the client socket, never the process.
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { UpstreamCluster } from './cluster.ts';
import { connectionNamed, HOP_BY_HOP } from './hop-by-hop.ts';
import { nextRequestId } from './request-id.ts';

export interface WebSocketForwarderOptions {
  /** Longest wait for the upstream's handshake answer, ms. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
}

// Hop-by-hop fields other than the two that carry the upgrade itself.
const DROPPED = [...HOP_BY_HOP].filter((name) => name !== 'connection' && name !== 'upgrade');

function ignore(): void {}

/**
 * A handshake is a body-less GET (RFC 6455 §4.1). One declaring a body cannot be relayed: the
 * tunnel sends the head alone and the body's bytes only after a 101, so the upstream would wait
 * for a body that never comes until the handshake timeout.
 */
const BAD_HANDSHAKE = 'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export class WebSocketForwarder {
  private readonly proxy: httpProxy;
  private readonly sockets: Set<Duplex>;
  private readonly handshakeTimeoutMs: number;

  constructor(options: WebSocketForwarderOptions = {}) {
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.sockets = new Set();
    this.proxy = httpProxy.createProxyServer({ ws: true, xfwd: true, changeOrigin: false });
    this.proxy.on('proxyReqWs', (proxyReq, req, socket) => this.prepare(proxyReq, req, socket));
    // Errors go to the per-upgrade callback; this keeps any other one from being unhandled.
    this.proxy.on('error', ignore);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cluster: UpstreamCluster): void {
    socket.on('error', ignore);
    if (declaresBody(req)) {
      socket.end(BAD_HANDSHAKE);
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const endpoint = cluster.pick();
    const target = endpoint.origin + endpoint.pathPrefix;
    try {
      this.proxy.ws(req, socket, head, { target }, (err: Error) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') endpoint.recordConnectFailure();
        socket.destroy();
      });
    } catch {
      socket.destroy();
    }
  }

  /** Closes every upgraded connection. */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.proxy.close();
  }

  private prepare(proxyReq: ClientRequest, req: IncomingMessage, socket: Duplex): void {
    for (const name of DROPPED) proxyReq.removeHeader(name);
    const named = connectionNamed(req.rawHeaders);
    if (named !== null) for (const name of named) proxyReq.removeHeader(name);
    if (!req.headers['x-request-id']) proxyReq.setHeader('x-request-id', nextRequestId());
    proxyReq.setTimeout(this.handshakeTimeoutMs, () => proxyReq.destroy(new Error('websocket handshake timed out')));
    // Both sides live and die together: http-proxy only ends the upstream on a clean client end.
    proxyReq.once('upgrade', (_res: IncomingMessage, upstream: Duplex) => {
      upstream.on('error', ignore);
      this.sockets.add(upstream);
      upstream.once('close', () => {
        this.sockets.delete(upstream);
        socket.destroy();
      });
      socket.once('close', () => upstream.destroy());
    });
    socket.once('close', () => proxyReq.destroy());
  }
}
