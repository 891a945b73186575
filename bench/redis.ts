// The bench's Redis: redis-server processes (one server, or a 3-master Redis Cluster) started as
// bench children on free loopback ports, and a minimal RESP client to ask them about themselves
// (PING, CLUSTER INFO, INFO commandstats) without going through sluice's own client.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { spawnChild, waitUntil, freePort, exited, logTail, type Child } from './children.ts';
import * as storeScripts from '../proxy/src/store/gcra-lua.ts';

export interface RedisNode {
  readonly port: number;
  readonly child: Child;
}

/** One request/answer on a fresh connection; the answer decoded (bulk and simple strings as text). */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffered = Buffer.alloc(0);
    const done = (err: Error | null, value?: string): void => {
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(value ?? '');
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`redis :${port}: no answer to ${args[0]} within ${timeoutMs} ms`)));
    socket.on('error', (err) => done(err));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const lineEnd = buffered.indexOf('\r\n');
      if (lineEnd < 0) return;
      const head = buffered.toString('latin1', 0, lineEnd);
      const kind = head[0];
      if (kind === '+' || kind === ':') { done(null, head.slice(1)); return; }
      if (kind === '-') { done(new Error(`redis :${port}: ${head.slice(1)}`)); return; }
      if (kind !== '$') { done(new Error(`redis :${port}: unexpected answer ${JSON.stringify(head)}`)); return; }
      const length = Number(head.slice(1));
      if (length < 0) { done(null, ''); return; }
      if (buffered.length < lineEnd + 2 + length + 2) return;
      done(null, buffered.toString('utf8', lineEnd + 2, lineEnd + 2 + length));
    });
  });
}

async function ping(port: number): Promise<boolean> {
  return (await redisCommand(port, ['PING'], 1000)) === 'PONG';
}

/**
 * Commands each node has executed so far, by name, from `INFO commandstats`: calls plus
 * rejected_calls (a command refused before running, e.g. a cluster redirection, was still a
 * round trip). The bench's own INFO is left out.
 */
export async function commandCounts(ports: readonly number[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const port of ports) {
    const text = await redisCommand(port, ['INFO', 'commandstats']);
    for (const line of text.split('\r\n')) {
      const match = /^cmdstat_([^:]+):(.*)$/.exec(line);
      if (match === null || match[1] === 'info') continue;
      const fields = new Map(match[2].split(',').map((kv) => kv.split('=') as [string, string]));
      const n = Number(fields.get('calls') ?? 0) + Number(fields.get('rejected_calls') ?? 0);
      counts.set(match[1], (counts.get(match[1]) ?? 0) + n);
    }
  }
  return counts;
}

/**
 * Commands sluice's Lua scripts run inside Redis (read from the scripts themselves). INFO
 * commandstats counts them like any other, but they cost no round trip: sluice never sends them
 * itself, only EVALSHA and the like.
 */
export const scriptCommands: ReadonlySet<string> = new Set(
  Object.values<unknown>(storeScripts).filter((v): v is string => typeof v === 'string')
    .flatMap((lua) => [...lua.matchAll(/redis\.p?call\(\s*['"]([A-Za-z]+)['"]/g)].map((m) => m[1].toLowerCase())),
);

/** A command delta split into what sluice sent and what its scripts ran inside Redis. */
export function splitCalls(delta: Readonly<Record<string, number>>): { readonly sent: number; readonly inScripts: number } {
  let sent = 0;
  let inScripts = 0;
  for (const [name, n] of Object.entries(delta)) {
    if (scriptCommands.has(name)) inScripts += n;
    else sent += n;
  }
  return { sent, inScripts };
}

/** What was executed between two `commandCounts` readings, by command (zeros left out). */
export function commandDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, n] of after) {
    const d = n - (before.get(name) ?? 0);
    if (d !== 0) delta[name] = d;
  }
  return delta;
}

/** A redis-server on a free loopback port, nothing persisted, its files in its own temp directory. */
export async function startRedisServer(name: string, logDir: string, timeoutMs: number, extra: readonly string[] = []): Promise<RedisNode> {
  const port = await freePort();
  const dir = join(logDir, `${name}-${port}`);
  mkdirSync(dir, { recursive: true });
  const child = spawnChild(name, 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { logDir });
  // A missing executable shows as an 'error' event after spawn: give it a turn to arrive.
  await new Promise((resolve) => setImmediate(resolve));
  await waitUntil(child, 'answering PING', () => ping(port), timeoutMs);
  return { port, child };
}

function exitOf(child: Child, timeoutMs: number): Promise<number | null> {
  if (exited(child)) return Promise.resolve(child.process.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name}: still running after ${timeoutMs} ms\n${logTail(child)}`)), timeoutMs);
    child.process.once('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
}

/**
 * Three masters, no replicas, slots spread by `redis-cli --cluster create`, ready when every node
 * says cluster_state:ok. Every process is a bench child: stopped with the others however the run ends.
 */
export async function startRedisCluster(logDir: string, timeoutMs: number): Promise<RedisNode[]> {
  const nodes: RedisNode[] = [];
  for (let i = 1; i <= 3; i++) {
    const busPort = await freePort();
    nodes.push(await startRedisServer(`redis-cluster-${i}`, logDir, timeoutMs, [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', 'nodes.conf',
      '--cluster-port', String(busPort),
      '--cluster-node-timeout', '2000',
    ]));
  }
  const create = spawnChild('redis-cluster-create', 'redis-cli',
    ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { logDir });
  const code = await exitOf(create, timeoutMs);
  if (code !== 0) throw new Error(`redis-cli --cluster create exited ${String(code)}\n${logTail(create)}`);
  for (const node of nodes) {
    await waitUntil(node.child, 'cluster_state:ok',
      async () => (await redisCommand(node.port, ['CLUSTER', 'INFO'], 1000)).includes('cluster_state:ok'), timeoutMs);
  }
  return nodes;
}
