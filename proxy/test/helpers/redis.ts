// Real redis-server processes for tests, on free loopback ports, each with its own temp dir.
// Never the machine's Redis on 6379. Every process started here is killed when the test process
// exits, even when a test forgets to stop it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './servers.ts';
import { waitFor } from './wait-for.ts';

const run = promisify(execFile);
const live = new Set<ChildProcess>();
function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}
process.on('exit', killAll);
// A test run cut short by a signal must not leave servers behind either.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: the server vanishes mid-flight, connections reset. */
  kill(): Promise<void>;
  /** Start again on the same port (empty data set). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that holds connections open and answers nothing. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: readonly string[];
  readonly servers: readonly RedisServer[];
  stop(): Promise<void>;
}

/** Answers true when a PING on `port` gets +PONG (a running, unpaused server). */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(200, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function startOn(port: number, dir: string, extra: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--protected-mode', 'no', ...extra],
    { stdio: 'ignore' },
  );
  live.add(child);
  child.on('exit', () => live.delete(child));
  await waitFor(async () => child.exitCode === null && (await pong(port)), {
    timeoutMs: 10_000,
    message: `redis-server on port ${port}`,
  });
  return child;
}

async function killChild(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGKILL');
  await exited;
}

export async function startRedis(extra: readonly string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  let child: ChildProcess | null = await startOn(port, dir, extra);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async () => {
      await killChild(child);
      child = null;
    },
    restart: async () => {
      await killChild(child);
      child = await startOn(port, dir, extra);
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    stop: async () => {
      await killChild(child);
      child = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Redis Cluster of three masters made with `redis-cli --cluster create`, by default without
 * replicas; with `replicas: 1` each master has one, which takes over when its master dies.
 */
export async function startRedisCluster(options: { replicas?: number } = {}): Promise<RedisCluster> {
  const replicas = options.replicas ?? 0;
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const busPort = await freePort();
      servers.push(
        await startRedis([
          '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${busPort}.conf`,
          '--cluster-port', String(busPort),
          '--cluster-node-timeout', '2000',
        ]),
      );
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitFor(
      async () => {
        for (const s of servers) {
          const { stdout } = await run('redis-cli', ['-p', String(s.port), 'cluster', 'info']);
          if (!stdout.includes('cluster_state:ok')) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'cluster_state:ok on every node' },
    );
    return { nodes, servers, stop: () => stopAll(servers) };
  } catch (error) {
    await stopAll(servers);
    throw error;
  }
}

/** The ports of the cluster's live masters, as `port` sees the cluster now. */
export async function clusterMasters(port: number): Promise<number[]> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'nodes']);
  return stdout
    .split('\n')
    .filter((line) => / master /.test(` ${line.split(' ')[2]?.replace(/,/g, ' ')} `) && !line.includes('fail'))
    .map((line) => Number(line.split(' ')[1].split('@')[0].split(':').pop()));
}

/** Whether `port` holds a key matching `pattern` (SCAN, a test-sized data set). */
export async function holdsKey(port: number, pattern: string): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), '--scan', '--pattern', pattern]);
  return stdout.trim() !== '';
}

async function stopAll(servers: readonly RedisServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}
