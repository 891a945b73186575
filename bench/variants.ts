// What the bench compares. Each variant starts its server(s) against the shared upstream and
// says where the load goes; adding a variant is adding an entry to `variants`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnChild, readyLine, waitUntil, freePort, type Child } from './children.ts';
import { startRedisServer, startRedisCluster, type RedisNode } from './redis.ts';
import { nginxBinary, startNginx } from './nginx.ts';
import { mixAccountId, mixAccountKey, sha256Hex, type RequestMix } from './request-set.ts';

export interface BenchContext {
  readonly root: string;
  readonly benchDir: string;
  readonly tmpDir: string;
  readonly upstreamPort: number;
  /** Node/V8 flags every proxy process is started with, the same for all. */
  readonly nodeFlags: readonly string[];
  readonly readyTimeoutMs: number;
}

export interface Target {
  readonly url: string;
  /** The process whose CPU and memory are measured; null when load goes straight to the upstream. */
  readonly proxy: Child | null;
  /** Processes the variant needs besides the proxy (their CPU is reported apart). */
  readonly helpers: readonly Child[];
  /** sluice's admin address, for its metrics after the run. */
  readonly adminUrl?: string;
  /** Ports of the Redis nodes the proxy uses: their command counts are read around each run. */
  readonly redisPorts?: readonly number[];
}

export interface Variant {
  readonly name: string;
  readonly description: string;
  /** A request the variant must refuse with `status`: proof its guards are really on. */
  readonly refuses?: { readonly headers: Readonly<Record<string, string>>; readonly status: number };
  /** The closed-loop load walks this wider mix instead of 1000 ids from one account. */
  readonly mix?: RequestMix;
  start(ctx: BenchContext): Promise<Target>;
}

const wrongKey = { headers: { 'x-caller-account': 'bench', 'x-caller-key': 'not-the-key' }, status: 401 };

/** A variant that cannot run here (e.g. a store not available); the run goes on without it. */
export class SkipVariant extends Error {
  override readonly name = 'SkipVariant';
}

function renderRules(ctx: BenchContext, template: string, outName: string, storeLine?: string): string {
  let text = readFileSync(join(ctx.benchDir, 'rules', template), 'utf8').replaceAll('${UPSTREAM_PORT}', String(ctx.upstreamPort));
  if (storeLine !== undefined) {
    const memory = 'store: { kind: memory }';
    if (!text.includes(memory)) throw new Error(`${template}: no '${memory}' line to replace`);
    text = text.replace(memory, storeLine);
  }
  const file = join(ctx.tmpDir, outName);
  writeFileSync(file, text);
  return file;
}

/** The loaded variant: 10 000 accounts and a hot-key table sized for 100 000 distinct ids. */
export const LOADED_MIX: RequestMix = { ids: 100_000, accounts: 10_000 };

/**
 * all-guards.yaml plus LOADED_MIX.accounts registered accounts (each with a key, a quota and
 * routes), and a hot-key rule slow enough (5/s, burst 100: a key stays tracked for ~20 s after
 * its last request) that the 100 000 ids the load walks stay tracked together. In one file, or
 * with `files` > 1 as a directory whose accounts are split over that many files (as a pod with a
 * memory limit needs them: each file is parsed on its own). Answers the path to pass as --rules.
 */
export function renderLoadedRules(ctx: BenchContext, files = 1): string {
  let text = readFileSync(join(ctx.benchDir, 'rules', 'all-guards.yaml'), 'utf8').replaceAll('${UPSTREAM_PORT}', String(ctx.upstreamPort));
  const perFile = Math.ceil(LOADED_MIX.accounts / files);
  const accounts = (file: number): string => {
    const lines: string[] = [];
    for (let i = file * perFile; i < Math.min(LOADED_MIX.accounts, (file + 1) * perFile); i++) {
      lines.push(`    - { id: ${mixAccountId(i)}, owner: Bench, team: performance, scenario: Loaded bench caller, class: order, `
        + `key_sha256: ${sha256Hex(mixAccountKey(i))}, quota: 1000/s, burst: 1000, routes: [GET /members/*] }`);
    }
    return lines.join('\n');
  };
  const replace = (from: string, to: string): void => {
    if (!text.includes(from)) throw new Error(`all-guards.yaml: no '${from.trim()}' to replace`);
    text = text.replace(from, to);
  };
  replace('  accounts:\n', `  accounts:\n${accounts(0)}\n`);
  replace('      rate: 100000/s\n      burst: 1000\n      track: 100000', `      rate: 5/s\n      burst: 100\n      track: ${LOADED_MIX.ids}`);
  if (files === 1) {
    const file = join(ctx.tmpDir, 'loaded.yaml');
    writeFileSync(file, text);
    return file;
  }
  const dir = join(ctx.tmpDir, `loaded-${files}-files`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'rules.yaml'), text);
  for (let f = 1; f < files; f++) writeFileSync(join(dir, `callers-${f}.yaml`), `callers:\n  accounts:\n${accounts(f)}\n`);
  return dir;
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200;
}

async function startSluice(ctx: BenchContext, name: string, rulesFile: string, helpers: readonly Child[]): Promise<Target> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const args = [...ctx.nodeFlags, join(ctx.root, 'bin', 'sluice.js'), 'start', '--rules', rulesFile,
    '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${adminPort}`];
  const proxy = spawnChild(name, process.execPath, args, { logDir: ctx.tmpDir });
  try {
    await waitUntil(proxy, 'ready (GET /readyz = 200)', () => httpOk(`http://127.0.0.1:${adminPort}/readyz`), ctx.readyTimeoutMs);
  } catch (err) {
    throw new SkipVariant(err instanceof Error ? err.message : String(err));
  }
  return { url: `http://127.0.0.1:${port}`, proxy, helpers, adminUrl: `http://127.0.0.1:${adminPort}` };
}

/** Redis started for a variant; a machine without redis-server skips the variant. */
async function startRedis(what: string, start: () => Promise<RedisNode[]>): Promise<RedisNode[]> {
  try {
    return await start();
  } catch (err) {
    throw new SkipVariant(`${what} not available: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function startSluiceOnRedis(ctx: BenchContext, name: string, nodes: readonly RedisNode[], store: string): Promise<Target> {
  const rules = renderRules(ctx, 'all-guards.yaml', `all-guards-${name}.yaml`, store);
  const target = await startSluice(ctx, name, rules, nodes.map((n) => n.child));
  return { ...target, redisPorts: nodes.map((n) => n.port) };
}

export const variants: readonly Variant[] = [
  {
    name: 'direct',
    description: 'load generator straight to the upstream (no proxy)',
    async start(ctx) {
      return { url: `http://127.0.0.1:${ctx.upstreamPort}`, proxy: null, helpers: [] };
    },
  },
  {
    name: 'plain-proxy',
    description: 'floor peer: undici Pool.dispatch forwarding, no guards (bench/plain-proxy.ts)',
    async start(ctx) {
      const proxy = spawnChild('plain-proxy', process.execPath,
        [...ctx.nodeFlags, join(ctx.benchDir, 'plain-proxy.ts'), `http://127.0.0.1:${ctx.upstreamPort}`],
        { logDir: ctx.tmpDir, ownChild: true });
      const ready = await readyLine(proxy, ctx.readyTimeoutMs);
      return { url: `http://127.0.0.1:${String(ready.port)}`, proxy, helpers: [] };
    },
  },
  {
    name: 'nginx',
    description: 'peer: nginx, one worker, keep-alive upstream pool, access log off (bench/nginx.ts); where installed',
    async start(ctx) {
      const binary = nginxBinary();
      if (binary === null) throw new SkipVariant('nginx not installed');
      try {
        const { child, port } = await startNginx(binary, ctx.tmpDir, ctx.upstreamPort, ctx.readyTimeoutMs);
        return { url: `http://127.0.0.1:${port}`, proxy: child, helpers: [] };
      } catch (err) {
        throw new SkipVariant(`nginx did not start: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  },
  {
    name: 'http-proxy',
    description: 'peer: the http-proxy package as an HTTP proxy, keep-alive agent (bench/http-proxy-peer.ts)',
    async start(ctx) {
      const proxy = spawnChild('http-proxy', process.execPath,
        [...ctx.nodeFlags, join(ctx.benchDir, 'http-proxy-peer.ts'), `http://127.0.0.1:${ctx.upstreamPort}`],
        { logDir: ctx.tmpDir, ownChild: true });
      try {
        const ready = await readyLine(proxy, ctx.readyTimeoutMs);
        return { url: `http://127.0.0.1:${String(ready.port)}`, proxy, helpers: [] };
      } catch (err) {
        throw new SkipVariant(`http-proxy not available: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  },
  {
    name: 'sluice-route',
    description: 'sluice, caller identified (trust) and routed, no limits (rules/identify-route.yaml)',
    start: (ctx) => startSluice(ctx, 'sluice-route', renderRules(ctx, 'identify-route.yaml', 'identify-route.yaml'), []),
  },
  {
    name: 'sluice-guards',
    description: 'sluice, all guards on, memory store (rules/all-guards.yaml)',
    refuses: wrongKey,
    start: (ctx) => startSluice(ctx, 'sluice-guards', renderRules(ctx, 'all-guards.yaml', 'all-guards.yaml'), []),
  },
  {
    name: 'sluice-loaded',
    description: `sluice, all guards on, memory store, ${LOADED_MIX.accounts} registered accounts and ${LOADED_MIX.ids} distinct member ids (a full hot-key table): the load walks every account and id`,
    refuses: wrongKey,
    mix: LOADED_MIX,
    start: (ctx) => startSluice(ctx, 'sluice-loaded', renderLoadedRules(ctx), []),
  },
  {
    name: 'sluice-redis',
    description: 'sluice, all guards on, Redis store (one redis-server on loopback)',
    refuses: wrongKey,
    async start(ctx) {
      const nodes = await startRedis('redis-server', async () => [await startRedisServer('redis-server', ctx.tmpDir, ctx.readyTimeoutMs)]);
      const store = `store: { kind: redis, url: "redis://127.0.0.1:${nodes[0].port}", on_failure: local, instances: 1 }`;
      return startSluiceOnRedis(ctx, 'sluice-redis', nodes, store);
    },
  },
  {
    name: 'sluice-redis-cluster',
    description: 'sluice, all guards on, Redis Cluster store (3 masters, no replicas, on loopback)',
    refuses: wrongKey,
    async start(ctx) {
      const nodes = await startRedis('Redis Cluster', () => startRedisCluster(ctx.tmpDir, ctx.readyTimeoutMs));
      const store = `store: { kind: redis-cluster, nodes: [${nodes.map((n) => `"127.0.0.1:${n.port}"`).join(', ')}], on_failure: local, instances: 1 }`;
      return startSluiceOnRedis(ctx, 'sluice-redis-cluster', nodes, store);
    },
  },
];
