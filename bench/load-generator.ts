// The load generator process (bench/load.ts) seen from run.ts: started once, then one run per call.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild, type Child } from './children.ts';
import type { LoadJob, LoadResult } from './load.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));

/** 1000 member ids in a fixed pseudo-random order (same sequence every run). */
function memberPaths(): string[] {
  const ids = Array.from({ length: 1000 }, (_, i) => 100000 + i);
  let seed = 0x2545f491;
  for (let i = ids.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids.map((id) => `/members/${id}`);
}

/** Sent by every request of every variant; direct and the plain proxy ignore them. */
export const requestHeaders = { 'x-caller-account': 'bench', 'x-caller-key': 'bench-secret-key' };

export class LoadGenerator {
  private readonly child: Child;
  private readonly paths = memberPaths();

  constructor(child: Child) {
    this.child = child;
  }

  static async start(logDir: string): Promise<LoadGenerator> {
    const proc = fork(join(benchDir, 'load.ts'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const child: Child = { name: 'load', process: proc, pid: proc.pid ?? 0, logFile: join(logDir, 'load.log') };
    await new Promise<void>((resolve, reject) => {
      proc.once('message', () => resolve());
      proc.once('exit', () => reject(new Error('load generator exited at start')));
    });
    return new LoadGenerator(child);
  }

  get pid(): number {
    return this.child.pid;
  }

  run(url: string, connections: number, durationS: number): Promise<LoadResult> {
    const job: LoadJob = { type: 'run', url, connections, durationS, paths: this.paths, headers: requestHeaders };
    const proc = this.child.process;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`load run exceeded ${durationS + 30} s`)), (durationS + 30) * 1000);
      const onExit = (): void => done(new Error('load generator exited'));
      const onMessage = (message: LoadResult | { type: 'error'; message: string }): void => {
        if (message.type === 'result') done(null, message);
        else done(new Error(`load generator: ${message.message}`));
      };
      function done(err: Error | null, result?: LoadResult): void {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
        if (err !== null || result === undefined) reject(err ?? new Error('no result'));
        else resolve(result);
      }
      proc.on('message', onMessage);
      proc.once('exit', onExit);
      proc.send(job);
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

