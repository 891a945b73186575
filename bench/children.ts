// Child processes of a bench run: spawned with their output in log files, awaited until ready,
// and always stopped — on success, on error, on SIGINT/SIGTERM and at exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { processTree } from './proc.ts';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
}

const running = new Set<Child>();

export interface SpawnOptions {
  readonly logDir: string;
  /** Pipe stdout to the parent (for a JSON ready line) and open an IPC channel whose loss stops the child. */
  readonly ownChild?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export function spawnChild(name: string, command: string, args: readonly string[], options: SpawnOptions): Child {
  const logFile = join(options.logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(command, args, {
    stdio: options.ownChild === true ? ['ignore', 'pipe', fd, 'ipc'] : ['ignore', fd, fd],
    env: options.env ?? process.env,
  });
  closeSync(fd);
  // A missing executable is reported as an 'error' event; without a listener it would crash the run.
  proc.on('error', () => undefined);
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const child: Child = { name, process: proc, pid: proc.pid, logFile };
  running.add(child);
  proc.on('exit', () => running.delete(child));
  return child;
}

/** The last lines a child wrote, for error messages. */
export function logTail(child: Child, lines = 15): string {
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function exited(child: Child): boolean {
  return child.process.exitCode !== null || child.process.signalCode !== null;
}

/** The first stdout line of an own child, parsed as JSON (its ready announcement). */
export function readyLine(child: Child, timeoutMs: number): Promise<Record<string, unknown>> {
  const stdout = child.process.stdout;
  if (stdout === null) return Promise.reject(new Error(`${child.name}: stdout is not piped`));
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => finish(new Error(`${child.name}: not ready within ${timeoutMs} ms\n${logTail(child)}`)), timeoutMs);
    const onExit = (): void => finish(new Error(`${child.name}: exited before ready\n${logTail(child)}`));
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      try {
        finish(null, JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
      } catch {
        finish(new Error(`${child.name}: bad ready line ${JSON.stringify(buffered.slice(0, newline))}`));
      }
    };
    function finish(err: Error | null, value?: Record<string, unknown>): void {
      clearTimeout(timer);
      stdout?.off('data', onData);
      child.process.off('exit', onExit);
      stdout?.resume();
      if (err !== null) reject(err);
      else resolve(value ?? {});
    }
    stdout.on('data', onData);
    child.process.once('exit', onExit);
  });
}

/** Polls `check` until it holds; fails at the deadline or as soon as the child exits. */
export async function waitUntil(child: Child, what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited(child)) throw new Error(`${child.name}: exited before ${what}\n${logTail(child)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${child.name}: not ${what} within ${timeoutMs} ms\n${logTail(child)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function signalTree(child: Child, signal: NodeJS.Signals): void {
  for (const pid of processTree(child.pid).reverse()) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Stops one child: SIGTERM, then SIGKILL after a grace period. */
export async function stopChild(child: Child, graceMs = 3000): Promise<void> {
  if (exited(child)) { running.delete(child); return; }
  const gone = new Promise<void>((resolve) => child.process.once('exit', () => resolve()));
  signalTree(child, 'SIGTERM');
  const timer = setTimeout(() => signalTree(child, 'SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** The children running now (to stop what a failed variant left behind). */
export function runningChildren(): ReadonlySet<Child> {
  return new Set(running);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child)));
}

let installed = false;
/** Makes sure no child outlives the run, however it ends. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const child of running) signalTree(child, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children\n`);
      stopAll().finally(() => process.exit(130));
    });
  }
}

/** A loopback port free at the time of asking (for servers that must be told their port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
