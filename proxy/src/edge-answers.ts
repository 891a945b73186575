// Plain HTTP answers at the edge of the listener (SPEC §4), for requests that never become a
// request the guards could judge: headers too large or too many (431), headers not received in
// time (408, the slowloris defence), anything else the parser refuses (400). Each is answered
// once, then the connection is closed: never a hang, never a second answer on the same socket.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerRules } from './rules/types.ts';

/** How often node looks for connections past the headers timeout (its default is 30 s). */
export const HEADERS_CHECK_INTERVAL_MS = 500;

/** After answering, how long the peer may keep sending before the socket is destroyed. */
const LINGER_MS = 1000;

function plain(status: number, text: string): string {
  return `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
}

const TOO_LARGE = plain(431, 'Request Header Fields Too Large');
const TIMEOUT = plain(408, 'Request Timeout');
const BAD_REQUEST = plain(400, 'Bad Request');

/** The raw answer to a parser or timeout error of node's HTTP server, by its error code. */
export function edgeAnswer(code: string | undefined): string {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return TOO_LARGE;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return TIMEOUT;
    default:
      return BAD_REQUEST;
  }
}

/** Sockets already answered: the parser reports again on every later chunk of the same garbage. */
const answered = new WeakSet<Duplex>();

/** The server's `clientError` handler. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  // A reset peer takes no answer, and raw bytes after an answer already started would corrupt it.
  if (error.code === 'ECONNRESET' || !socket.writable || responseStarted(socket)) {
    socket.destroy();
    return;
  }
  closeWith(socket, edgeAnswer(error.code));
}

/**
 * Ends the socket after `answer`. The peer may still be sending (a body, more garbage): closing
 * with unread bytes would reset the connection and could lose the answer on the way, so the
 * socket lingers a moment half-closed before it is destroyed.
 */
function closeWith(socket: Duplex, answer: string): void {
  socket.on('error', ignore);
  socket.end(answer);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

function ignore(): void {}

/** node keeps the response in flight on a socket as `_httpMessage` (its own clientError default reads it). */
function responseStarted(socket: Duplex): boolean {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  return inFlight !== undefined && inFlight !== null && inFlight.headersSent;
}

/**
 * Puts the rules' edge limits on the listener (at start and on each reload). node stops parsing
 * header fields at `maxHeadersCount` without telling: one more than the cap is kept so that a
 * request over it can be told apart and refused (`overHeaderCount`).
 */
export function applyEdgeLimits(server: Server, rules: Pick<ServerRules, 'headersTimeoutMs' | 'maxHeaders'>): void {
  server.headersTimeout = rules.headersTimeoutMs;
  server.maxHeadersCount = rules.maxHeaders + 1;
}

/** True when `req` carries more header fields than the cap `applyEdgeLimits` set. */
export function overHeaderCount(req: IncomingMessage, server: Server): boolean {
  const kept = server.maxHeadersCount;
  return kept !== null && kept > 0 && req.rawHeaders.length >= 2 * kept;
}

/** Answers a request over the header-count cap with 431 and closes its connection. */
export function refuseHeaderCount(res: ServerResponse): void {
  res.writeHead(431, { connection: 'close', 'content-length': 0 });
  res.end();
}

/** The same for an upgrade request, on its raw socket. */
export function refuseUpgradeHeaderCount(socket: Duplex): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  closeWith(socket, TOO_LARGE);
}
