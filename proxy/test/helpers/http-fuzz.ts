// Mutated HTTP/1.1 requests for the listener's fuzz test and `npm run fuzz`: valid requests bent
// in the ways that break parsers and proxies (inserted CR, LF and NUL, bad and conflicting
// Content-Length / Transfer-Encoding, absurd sizes, header lines without a colon, obsolete line
// folding, truncation, random bytes). A fixed seed gives the same cases on every run.
import { connect } from 'node:net';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

const int = (random: Random, n: number): number => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)];

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'G\0ET', 'get', 'BREW', ''];
const PATHS = ['/members/42', '/members/10086/level', '/members/?q=1', '/', '*', 'http://127.0.0.1/members/1', '/%00', '/members/%ZZ', '//..//', '/a?b=%'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 ', 'HTP/1.1', ''];
const CONTENT_LENGTHS = ['0', '5', '-1', '+5', '5 ', ' 5', '0x10', '99999999999999999999', '1e3', '5, 5', '5,6', '', 'abc', '4294967296'];
const TRANSFER_ENCODINGS = ['chunked', 'identity', 'chunked, identity', 'gzip, chunked', 'chunked, chunked', 'xchunked', ' chunked', 'chunked\0', 'CHUNKED', ''];
const CHUNKED_BODIES = ['5\r\nhello\r\n0\r\n\r\n', 'zz\r\nhello\r\n0\r\n\r\n', '5;ext=1\r\nhello\r\n0\r\n\r\n', 'ffffffffffffffff\r\n', '5\r\nhel', '0\r\nx-trailer: 1\r\n\r\n', '-1\r\n\r\n'];

interface Parts {
  requestLine: string;
  headers: string[];
  body: string;
}

function baseRequest(random: Random): Parts {
  const headers = ['host: 127.0.0.1', 'x-caller-account: order-center', `x-request-id: fuzz-${int(random, 1e9)}`];
  const kind = int(random, 3);
  if (kind === 0) return { requestLine: 'GET /members/42 HTTP/1.1', headers, body: '' };
  if (kind === 1) return { requestLine: 'POST /members/42 HTTP/1.1', headers: [...headers, 'content-length: 5'], body: 'hello' };
  return { requestLine: 'POST /members/42 HTTP/1.1', headers: [...headers, 'transfer-encoding: chunked'], body: '5\r\nhello\r\n0\r\n\r\n' };
}

/** Each mutation bends one part of the request. */
const MUTATIONS: readonly ((random: Random, p: Parts) => void)[] = [
  (r, p) => (p.requestLine = `${pick(r, METHODS)} ${pick(r, PATHS)} ${pick(r, VERSIONS)}`),
  (r, p) => p.headers.push(`content-length: ${pick(r, CONTENT_LENGTHS)}`),
  (r, p) => p.headers.push(`transfer-encoding: ${pick(r, TRANSFER_ENCODINGS)}`),
  (r, p) => {
    p.headers.push('transfer-encoding: chunked');
    p.body = pick(r, CHUNKED_BODIES);
  },
  (r, p) => p.headers.push(pick(r, ['no colon at all', ': empty name', 'bad name: x', 'x-a:', '\tleading: tab', ' folded continuation', 'x\0: y', 'x-b: a\rb', 'x-c: a\nb'])),
  (r, p) => p.headers.push(`x-big: ${'b'.repeat(pick(r, [100, 4096, 16 * 1024, 70 * 1024]))}`),
  (r, p) => {
    const n = pick(r, [50, 99, 101, 300, 2000]);
    for (let i = 0; i < n; i++) p.headers.push(`x-many-${i}: ${i}`);
  },
  (r, p) => (p.requestLine = `GET /${'p'.repeat(pick(r, [1024, 8 * 1024, 20 * 1024]))} HTTP/1.1`),
  (r, p) => p.headers.push(pick(r, ['x-caller-account: nobody', 'x-caller-account: ', 'x-caller-account: order-center', 'x-caller-account: campaign', 'connection: close', 'connection: keep-alive, upgrade', 'upgrade: websocket', 'expect: 100-continue', 'host: a', 'host: a\r\nhost: b'])),
  (r, p) => (p.body += pick(r, ['', 'GET /members/1 HTTP/1.1\r\nhost: x\r\n\r\n', 'garbage\r\n\r\n', '\0\0\0'])),
  (r, p) => p.headers.splice(int(r, p.headers.length + 1), 0, p.headers[int(r, p.headers.length)] ?? 'host: x'),
  (r, p) => (p.headers = p.headers.filter(() => r() < 0.5)),
];

/** Bytewise damage to the serialized request. */
function damage(random: Random, bytes: Buffer): Buffer {
  const kind = int(random, 5);
  if (kind === 0) {
    // Insert CR, LF, NUL or a bare CRLF somewhere.
    const at = int(random, bytes.length + 1);
    const insert = Buffer.from(pick(random, ['\r', '\n', '\0', '\r\n', '\r\n\r\n', ' ', '\x7f']), 'latin1');
    return Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at)]);
  }
  if (kind === 1) return bytes.subarray(0, int(random, bytes.length + 1));
  if (kind === 2) {
    const out = Buffer.from(bytes);
    for (let i = 0, n = 1 + int(random, 8); i < n && out.length > 0; i++) out[int(random, out.length)] = int(random, 256);
    return out;
  }
  if (kind === 3) {
    const noise = Buffer.alloc(1 + int(random, 512));
    for (let i = 0; i < noise.length; i++) noise[i] = int(random, 256);
    return noise;
  }
  return bytes;
}

/** Case `index` of the run seeded with `seed`: the same bytes every time. */
export function fuzzCase(seed: number, index: number): Buffer {
  const random = seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const parts = baseRequest(random);
  for (let i = 0, n = 1 + int(random, 3); i < n; i++) pick(random, MUTATIONS)(random, parts);
  const text = `${parts.requestLine}\r\n${parts.headers.map((h) => `${h}\r\n`).join('')}\r\n${parts.body}`;
  const bytes = Buffer.from(text, 'latin1');
  return random() < 0.35 ? damage(random, bytes) : bytes;
}

export interface CaseOutcome {
  /** Status of the first answer, 0 when none. */
  readonly status: number;
  /** The server closed the connection within the bound after the client stopped sending. */
  readonly closed: boolean;
  readonly ms: number;
}

/**
 * Sends one case on a fresh connection. The client waits up to `answerMs` for an answer or a
 * close, then half-closes (a client that has nothing more to say) and waits up to `closeMs` for
 * the server to close: a server that does not is a hang.
 */
export function sendCase(port: number, bytes: Buffer, answerMs: number, closeMs: number): Promise<CaseOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let first: Buffer | null = null;
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      if (timer !== null) clearTimeout(timer);
      socket.destroy();
      const match = first === null ? null : /^HTTP\/1\.[01] (\d{3})/.exec(first.toString('latin1', 0, 16));
      resolve({ status: match === null ? 0 : Number(match[1]), closed, ms: performance.now() - started });
    };
    const halfClose = (): void => {
      if (done) return;
      if (!socket.destroyed) socket.end();
      timer = setTimeout(() => finish(false), closeMs);
    };
    socket.on('data', (chunk: Buffer) => {
      if (first === null) {
        first = chunk;
        // An answer came: nothing more to wait for but the close.
        if (timer !== null) clearTimeout(timer);
        halfClose();
      }
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(bytes);
      timer = setTimeout(halfClose, answerMs);
    });
  });
}

export interface FuzzTally {
  readonly cases: number;
  readonly byStatus: Record<string, number>;
  /** Cases whose connection the server never closed (index and first bytes). */
  readonly hangs: readonly string[];
  readonly slowestMs: number;
  readonly ms: number;
}

/** Runs cases [from, from + count) of `seed`, `concurrency` connections at a time. */
export async function runFuzz(port: number, options: { seed: number; from?: number; count: number; concurrency: number; answerMs: number; closeMs: number }): Promise<FuzzTally> {
  const started = performance.now();
  const from = options.from ?? 0;
  const byStatus: Record<string, number> = {};
  const hangs: string[] = [];
  let slowest = 0;
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < from + options.count) {
      const index = next++;
      const bytes = fuzzCase(options.seed, index);
      const outcome = await sendCase(port, bytes, options.answerMs, options.closeMs);
      byStatus[outcome.status] = (byStatus[outcome.status] ?? 0) + 1;
      slowest = Math.max(slowest, outcome.ms);
      if (!outcome.closed) hangs.push(`#${index}: ${JSON.stringify(bytes.toString('latin1', 0, 120))}`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { cases: options.count, byStatus, hangs, slowestMs: Math.round(slowest), ms: Math.round(performance.now() - started) };
}
