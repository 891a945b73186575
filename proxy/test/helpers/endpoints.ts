// Upstream endpoints a test controls one by one: their answer, their delay, their /healthz, and a
// hard kill (every socket cut, the port closed) — the parts of a cluster the mesh features act on.
import { startHttpServer, type TestServer } from './servers.ts';

export interface TestEndpoint extends TestServer {
  readonly name: string;
  /** Requests answered (or cut), /healthz excluded. */
  served: number;
  /** /healthz requests received. */
  checks: number;
  status: number;
  delayMs: number;
  /** What /healthz answers: 200 when true, 500 when false. */
  healthy: boolean;
  /** Cuts every connection, in flight or idle, and stops listening: connections are refused from now on. */
  kill(): void;
}

export async function startEndpoint(name: string): Promise<TestEndpoint> {
  const state = { served: 0, checks: 0, status: 200, delayMs: 0, healthy: true };
  const server = await startHttpServer((req, res) => {
    if (req.url === '/healthz') {
      state.checks++;
      res.writeHead(state.healthy ? 200 : 500, { 'content-type': 'text/plain' });
      res.end(state.healthy ? 'ok' : 'failing');
      return;
    }
    state.served++;
    req.resume();
    req.on('end', () => {
      const answer = (): void => {
        if (res.destroyed) return;
        const body = JSON.stringify({ endpoint: name, url: req.url });
        res.writeHead(state.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (state.delayMs > 0) {
        const timer = setTimeout(answer, state.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else answer();
    });
  });
  const endpoint = Object.assign(state, server, {
    name,
    kill(): void {
      server.server.close();
      server.server.closeAllConnections();
    },
  });
  return endpoint;
}
