// The demo's stand-in member service: one small node:http server per cluster on a free loopback
// port, answering member-profile JSON. Each names itself in `x-member-cluster` (forwarded back
// untouched by sluice), so the demo sees which cluster served each admitted request. Latency and
// failures are adjustable at run time for the "primary slowdown" phase.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CLUSTER_HEADER = 'x-member-cluster';

const LEVELS = ['silver', 'gold', 'platinum', 'diamond'] as const;
const RISKS = ['low', 'low', 'low', 'medium', 'high'] as const;

export class MemberCluster {
  readonly name: string;
  readonly server: Server;
  /** Extra delay before every answer, in milliseconds. */
  latencyMs = 0;
  /** Share (0..1) of requests answered 500. */
  failureRatio = 0;
  /** Requests answered so far. */
  served = 0;
  /** When above 0, every member whose id is a multiple of it answers another level (a store with a few rows wrong). */
  skewLevelEvery = 0;
  /**
   * Requests served at once, 0 for no limit: past it requests wait in a FIFO queue, as in a real
   * service, and every caller's latency grows with the queue (the lunch-hour phase).
   */
  capacity = 0;
  /** Time each request holds one of the `capacity` places, ms (with a capacity only). */
  serviceMs = 0;
  private busy = 0;
  private readonly waiting: (() => void)[] = [];

  private constructor(name: string) {
    this.name = name;
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  static async start(name: string): Promise<MemberCluster> {
    const cluster = new MemberCluster(name);
    await new Promise<void>((resolve, reject) => {
      cluster.server.once('error', reject);
      cluster.server.listen(0, '127.0.0.1', () => resolve());
    });
    return cluster;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    // Drain any body (POST points) before answering, so keep-alive connections stay usable.
    req.resume();
    const reply = (): void => {
      if (res.destroyed) return;
      this.served++;
      if (this.failureRatio > 0 && Math.random() < this.failureRatio) {
        send(res, 500, this.name, { error: 'member store unavailable' });
        return;
      }
      const answer = memberAnswer(req.method ?? 'GET', (req.url ?? '/').split('?')[0], this.name);
      send(res, answer.status, this.name, this.skewLevelEvery > 0 ? skewLevel(answer.body, this.skewLevelEvery) : answer.body);
    };
    // latencyMs is added after the service (a slow dependency), without holding a place.
    const delayed = (): void => {
      const delay = this.latencyMs;
      if (delay > 0) setTimeout(reply, delay);
      else reply();
    };
    req.once('end', () => {
      if (this.capacity <= 0) delayed();
      else {
        this.waiting.push(delayed);
        this.pump();
      }
    });
  }

  private pump(): void {
    while (this.busy < this.capacity && this.waiting.length > 0) {
      const done = this.waiting.shift() as () => void;
      this.busy++;
      setTimeout(() => {
        this.busy--;
        done();
        this.pump();
      }, this.serviceMs);
    }
  }
}

/** The member-profile API the demo calls, answered from the id alone (no state). */
export function memberAnswer(method: string, path: string, cluster: string): { status: number; body: unknown } {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'members') return { status: 404, body: { error: 'not found' } };
  if (parts.length === 2 && parts[1] === 'search' && method === 'GET') {
    return { status: 200, body: { members: [profile('100001', cluster), profile('100002', cluster)] } };
  }
  const id = parts[1];
  if (id === undefined || !/^\d{1,12}$/.test(id)) return { status: 404, body: { error: 'no such member' } };
  if (parts.length === 2 && method === 'GET') return { status: 200, body: profile(id, cluster) };
  if (parts.length === 3 && method === 'GET' && parts[2] === 'level') {
    return { status: 200, body: { id, level: levelOf(id), points: pointsOf(id), served_by: cluster } };
  }
  if (parts.length === 3 && method === 'GET' && parts[2] === 'risk') {
    return { status: 200, body: { id, risk: RISKS[Number(id) % RISKS.length], served_by: cluster } };
  }
  if (parts.length === 3 && method === 'POST' && parts[2] === 'points') {
    return { status: 200, body: { id, points: pointsOf(id), applied: true, served_by: cluster } };
  }
  return { status: 404, body: { error: 'not found' } };
}

/** The body with `level` moved one step when the member's id is a multiple of `every`. */
function skewLevel(body: unknown, every: number): unknown {
  if (typeof body !== 'object' || body === null || !('level' in body) || !('id' in body)) return body;
  const member = body as { id: string; level: string };
  if (Number(member.id) % every !== 0) return body;
  return { ...member, level: LEVELS[(LEVELS.indexOf(member.level as (typeof LEVELS)[number]) + 1) % LEVELS.length] };
}

function profile(id: string, cluster: string): Record<string, string | number> {
  return { id, name: `Member ${id}`, level: levelOf(id), points: pointsOf(id), served_by: cluster };
}

function levelOf(id: string): string {
  return LEVELS[Number(id) % LEVELS.length];
}

function pointsOf(id: string): number {
  return (Number(id) * 7919) % 100_000;
}

function send(res: ServerResponse, status: number, cluster: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    [CLUSTER_HEADER]: cluster,
  });
  res.end(text);
}

/** The three stand-in clusters of the example rules. */
export interface MemberService {
  readonly primary: MemberCluster;
  readonly marketing: MemberCluster;
  readonly backup: MemberCluster;
  readonly all: readonly MemberCluster[];
  close(): Promise<void>;
}

export async function startMemberService(): Promise<MemberService> {
  const [primary, marketing, backup] = await Promise.all(['primary', 'marketing', 'backup'].map((n) => MemberCluster.start(n)));
  const all = [primary, marketing, backup];
  return {
    primary,
    marketing,
    backup,
    all,
    close: async () => {
      await Promise.all(all.map((c) => c.close()));
    },
  };
}
