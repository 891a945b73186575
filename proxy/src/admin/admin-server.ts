// The admin listener (SPEC §5): health, readiness, metrics, and the operators' views. Loopback by
// default; bound anywhere else, every request needs the bearer token except the probes (kubelet
// probes come from off the pod and they reveal nothing) and, when made public, /metrics.
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from '../listen.ts';
import { ADMIN_PAGE_HTML } from './page.ts';

export interface AdminSources {
  readonly registry: Registry;
  ready(): boolean;
  rules(): unknown;
  accounts(query: URLSearchParams): unknown;
  account(id: string, query: URLSearchParams): unknown | null;
  hotkeys(): unknown;
  breakers(): unknown;
  /** Per cluster: adaptive limit L, in flight, no-load latency (SPEC §9). */
  adaptive(): unknown;
  /** Every upstream cluster and the state of each endpoint. */
  clusters(): unknown;
  /** Chaos drills (/admin/faults); absent: 404. */
  faults?(): unknown;
  postFault?(body: string): { readonly status: number; readonly body: unknown };
  deleteFault?(name: string): { readonly status: number; readonly body: unknown };
  /** GET /admin/mirrors: counts and recent mismatches per mirror (absent: none configured). */
  mirrors?(): unknown;
  /** Applies a posted switch body; answers an error line or null. */
  postSwitch(body: string): string | null;
  clearSwitch(): void;
}

const MAX_BODY = 64 * 1024;

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}

export class AdminServer {
  readonly server: Server;
  private readonly sources: AdminSources;
  private readonly tokenHash: Buffer | null;
  private readonly metricsPublic: boolean;

  /**
   * `token` is required (non-null) when the admin address is not loopback; `metricsPublic`
   * (`server.metrics_public`) lets scrapers read /metrics without it.
   */
  constructor(sources: AdminSources, token: string | null, metricsPublic = false) {
    this.sources = sources;
    this.metricsPublic = metricsPublic;
    this.tokenHash = token === null ? null : createHash('sha256').update(token).digest();
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
      });
    });
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.tokenHash === null) return true;
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return false;
    const given = createHash('sha256').update(header.slice(7)).digest();
    return timingSafeEqual(given, this.tokenHash);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    if (path === '/healthz') return sendJson(res, 200, { status: 'alive' });
    // The page holds no data (it reads the endpoints below, with the token the operator types).
    if (path === '/' && (method === 'GET' || method === 'HEAD')) return sendPage(res);
    if (path === '/readyz') {
      return this.sources.ready() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'not ready' });
    }
    const open = this.metricsPublic && path === '/metrics';
    if (!open && !this.authorized(req)) return sendJson(res, 401, { error: 'admin token required (Authorization: Bearer ...)' });
    if (path === '/metrics') {
      const body = await this.sources.registry.metrics();
      res.writeHead(200, { 'content-type': this.sources.registry.contentType });
      res.end(body);
      return;
    }
    if (path === '/admin/rules') return sendJson(res, 200, this.sources.rules());
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    if (path === '/admin/accounts') return sendJson(res, 200, this.sources.accounts(query));
    if (path.startsWith('/admin/accounts/')) {
      const id = decodeURIComponent(path.slice('/admin/accounts/'.length));
      const account = this.sources.account(id, query);
      return account === null ? sendJson(res, 404, { error: `no account '${id}'` }) : sendJson(res, 200, account);
    }
    if (path === '/admin/hotkeys') return sendJson(res, 200, this.sources.hotkeys());
    if (path === '/admin/breakers') return sendJson(res, 200, this.sources.breakers());
    if (path === '/admin/adaptive') return sendJson(res, 200, this.sources.adaptive());
    if (path === '/admin/clusters') return sendJson(res, 200, this.sources.clusters());
    if (path === '/admin/faults' || path.startsWith('/admin/faults/')) return this.handleFaults(req, res, method, path);
    if (path === '/admin/mirrors') return sendJson(res, 200, this.sources.mirrors?.() ?? { mirrors: [] });
    if (path === '/admin/switch') {
      if (method === 'DELETE') {
        this.sources.clearSwitch();
        return sendJson(res, 200, { switch: {} });
      }
      if (method !== 'POST') return sendJson(res, 405, { error: 'use POST (set) or DELETE (clear)' });
      const body = await readBody(req);
      if (body === null) return sendJson(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
      const problem = this.sources.postSwitch(body);
      return problem === null ? sendJson(res, 200, { switch: JSON.parse(body) as unknown }) : sendJson(res, 400, { error: problem });
    }
    sendJson(res, 404, { error: `no such admin path ${path}` });
  }

  private async handleFaults(req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
    const { faults, postFault, deleteFault } = this.sources;
    if (faults === undefined || postFault === undefined || deleteFault === undefined) return sendJson(res, 404, { error: 'no fault drills here' });
    if (path === '/admin/faults') {
      if (method === 'GET') return sendJson(res, 200, faults());
      if (method !== 'POST') return sendJson(res, 405, { error: 'use GET (list), POST (start) or DELETE /admin/faults/NAME (stop)' });
      const body = await readBody(req);
      if (body === null) return sendJson(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
      const answer = postFault(body);
      return sendJson(res, answer.status, answer.body);
    }
    if (method !== 'DELETE') return sendJson(res, 405, { error: 'use DELETE /admin/faults/NAME' });
    const answer = deleteFault(decodeURIComponent(path.slice('/admin/faults/'.length)));
    return sendJson(res, answer.status, answer.body);
  }

  listen(host: string, port: number): Promise<void> {
    return listen(this.server, host, port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

const PAGE = Buffer.from(ADMIN_PAGE_HTML);

function sendPage(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': PAGE.length,
    'cache-control': 'no-store',
    // Nothing but this page and its own origin's endpoints.
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
  });
  res.end(res.req.method === 'HEAD' ? undefined : PAGE);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
