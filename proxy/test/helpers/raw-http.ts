// HTTP over a raw TCP socket, for what no HTTP client will send: malformed, oversized or slow
// requests. Each exchange is bounded in time; it answers what came back and whether the server
// closed the connection.
import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Everything the server sent, as latin1 text. */
  readonly text: string;
  /** Status of the first answer, or 0 when none came. */
  readonly status: number;
  /** The server closed (FIN or reset) before `waitMs` ran out. */
  readonly closed: boolean;
  /** The connection was reset rather than closed in order. */
  readonly reset: boolean;
  /** From connect to close (or to the deadline), ms. */
  readonly ms: number;
}

export interface RawOptions {
  /** Longest wait for the server to close, ms. */
  readonly waitMs: number;
  /** Parts written one after another, `gapMs` apart (a slow client); default all at once. */
  readonly gapMs?: number;
  /**
   * Half-close (FIN) after the last part. Off by default: node's server takes a half-close as
   * the client leaving, so it would drop the answer of a request still on its way.
   */
  readonly halfClose?: boolean;
}

/** Sends `parts` on one connection and collects the answer until the server closes or `waitMs`. */
export function rawExchange(port: number, parts: readonly (string | Buffer)[], options: RawOptions): Promise<RawExchange> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let reset = false;
    let finished = false;
    let drip: NodeJS.Timeout | null = null;
    const finish = (closed: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      if (drip !== null) clearTimeout(drip);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: match === null ? 0 : Number(match[1]), closed, reset, ms: performance.now() - started });
    };
    const deadline = setTimeout(() => finish(false), options.waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
      finish(true);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      const gap = options.gapMs ?? 0;
      let next = 0;
      const writeNext = (): void => {
        drip = null;
        if (finished || socket.destroyed) return;
        if (next < parts.length) {
          socket.write(parts[next++]);
          if (next < parts.length && gap > 0) drip = setTimeout(writeNext, gap);
          else writeNext();
          return;
        }
        if (options.halfClose === true) socket.end();
      };
      writeNext();
    });
  });
}

/** A plain GET with the given extra header lines, as raw bytes. */
export function rawGet(path: string, headerLines: readonly string[] = []): string {
  return `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headerLines.map((line) => `${line}\r\n`).join('')}\r\n`;
}
