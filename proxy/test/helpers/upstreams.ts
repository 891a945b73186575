// Stand-in member-service clusters for end-to-end tests: each answers JSON naming itself and
// echoing what it received, so a test can see where a request went and what reached it.
import type { IncomingHttpHeaders } from 'node:http';
import { startHttpServer, type TestServer } from './servers.ts';

export interface Received {
  readonly cluster: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface FakeCluster extends TestServer {
  readonly name: string;
  readonly received: Received[];
  /** Milliseconds to wait before answering (a slow upstream). */
  delayMs: number;
  /** Status to answer with. */
  status: number;
}

export async function startFakeCluster(name: string): Promise<FakeCluster> {
  const received: Received[] = [];
  const control = { delayMs: 0, status: 200 };
  const server = await startHttpServer((req, res) => {
    received.push({ cluster: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      const answer = (): void => {
        if (res.destroyed) return;
        const body = JSON.stringify({ cluster: name, url: req.url });
        res.writeHead(control.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (control.delayMs > 0) {
        const timer = setTimeout(answer, control.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else answer();
    });
  });
  return {
    ...server,
    close: server.close,
    name,
    received,
    get delayMs() {
      return control.delayMs;
    },
    set delayMs(value: number) {
      control.delayMs = value;
    },
    get status() {
      return control.status;
    },
    set status(value: number) {
      control.status = value;
    },
  };
}

/**
 * `version`, `clusters` and `classes` of a rules document for the three clusters: order on
 * primary with failover to backup, marketing isolated on its cluster with `marketingShare`.
 * Callers, limits and degrade rules are the test's own, appended after this.
 */
export function clusterSections(
  ports: { primary: number; marketing: number; backup: number },
  options: { marketingShare?: number; timeout?: string; connections?: number } = {},
): string {
  const timeout = options.timeout ?? '1s';
  const pool = options.connections === undefined ? '' : `, connections: ${options.connections}`;
  return `version: 1
clusters:
  primary:   { endpoints: ["http://127.0.0.1:${ports.primary}"], timeout: ${timeout}${pool} }
  marketing: { endpoints: ["http://127.0.0.1:${ports.marketing}"], timeout: ${timeout}${pool} }
  backup:    { endpoints: ["http://127.0.0.1:${ports.backup}"], timeout: ${timeout}${pool} }
classes:
  order:     { cluster: primary, failover: backup }
  marketing: { cluster: marketing, failover: none, max_share: ${options.marketingShare ?? 0.3} }
`;
}

/** A rules document (YAML text) pointing the three clusters at the given fake clusters. */
export function memberServiceRules(
  ports: { primary: number; marketing: number; backup: number },
  extra = '',
  clusters: Parameters<typeof clusterSections>[1] = {},
): string {
  return `${clusterSections(ports, clusters)}callers:
  auth: trust
  unknown: reject
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Load member profile while creating an order, class: order }
    - { id: campaign, owner: Zhang Min, team: growth, scenario: Flash-sale member lookup, class: marketing }
${extra}`;
}
