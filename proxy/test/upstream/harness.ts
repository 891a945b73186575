// A minimal sidecar around an UpstreamCluster for tests: every request is forwarded, every
// outcome recorded, and a second `done` for the same request is recorded as a fault.
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { UpstreamCluster, type UpstreamClusterOptions } from '../../src/upstream/cluster.ts';
import type { ForwardInfo, ForwardOutcome } from '../../src/upstream/forward-exchange.ts';
import type { ClusterRules } from '../../src/rules/types.ts';
import { startHttpServer, type TestServer } from '../helpers/servers.ts';

export interface Sidecar {
  readonly cluster: UpstreamCluster;
  readonly server: TestServer;
  readonly url: string;
  readonly outcomes: ForwardOutcome[];
  /** Requests whose `done` ran more than once. */
  readonly repeated: ForwardInfo[];
  close(): Promise<void>;
}

export function clusterRules(endpoints: readonly string[], overrides: Partial<ClusterRules> = {}): ClusterRules {
  return { name: 'primary', endpoints, timeoutMs: 2000, connections: 8, balance: 'round_robin', healthCheck: null, retry: null, ...overrides };
}

export async function startSidecar(rules: ClusterRules, options: UpstreamClusterOptions = {}): Promise<Sidecar> {
  const cluster = new UpstreamCluster(rules, options);
  const outcomes: ForwardOutcome[] = [];
  const repeated: ForwardInfo[] = [];
  const seen = new WeakSet<ForwardInfo>();
  const server = await startHttpServer((req, res) => {
    const info: ForwardInfo = { url: req.url ?? '/', remoteAddress: req.socket.remoteAddress ?? '', accountId: 'test-account' };
    cluster.forward(req, res, info, (outcome) => {
      if (seen.has(outcome.info)) repeated.push(outcome.info);
      seen.add(outcome.info);
      outcomes.push(outcome);
    });
  });
  return {
    cluster,
    server,
    url: server.url,
    outcomes,
    repeated,
    close: async () => {
      await server.close();
      await cluster.destroy();
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One request on a fresh connection (no agent), the whole answer read. */
export function send(
  url: string,
  options: { method?: string; path?: string; headers?: OutgoingHttpHeaders; body?: Buffer | Buffer[] } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(options.path ?? '/', url);
    const req = httpRequest(target, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = options.body;
    if (Array.isArray(body)) for (const part of body) req.write(part);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}
