// The load generator process (bench/load.ts) seen from run.ts: started once, then one run per call.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild, type Child } from './children.ts';
import type { LoadJob, LoadResult } from './load.ts';
import type { OpenLoopJob, OpenLoopResult } from './open-loop.ts';
import { memberPaths, requestHeaders, type RequestMix } from './request-set.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));

/** Sent by every request of every variant; direct and the peers ignore them. */
export { requestHeaders };

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

  /** One closed-loop pass (autocannon); `mix` replaces the 1000 ids and the one bench account. */
  run(url: string, connections: number, durationS: number, mix?: RequestMix): Promise<LoadResult> {
    const job: LoadJob = { type: 'run', url, connections, durationS, paths: this.paths, headers: requestHeaders, mix };
    return this.ask<LoadResult>(job, 'result', durationS);
  }

  /** One open-loop pass: `rate` arrivals per second on a schedule, for `durationS`. */
  runOpen(url: string, rate: number, durationS: number, connections: number): Promise<OpenLoopResult> {
    const job: OpenLoopJob = { type: 'open', url, rate, durationS, connections, paths: this.paths, headers: requestHeaders };
    return this.ask<OpenLoopResult>(job, 'open-result', durationS);
  }

  private ask<R extends { type: string }>(job: LoadJob | OpenLoopJob, answer: R['type'], durationS: number): Promise<R> {
    const proc = this.child.process;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`load run exceeded ${durationS + 30} s`)), (durationS + 30) * 1000);
      const onExit = (): void => done(new Error('load generator exited'));
      const onMessage = (message: R | { type: 'error'; message: string }): void => {
        if (message.type === answer) done(null, message as R);
        else if (message.type === 'error') done(new Error(`load generator: ${(message as { message: string }).message}`));
      };
      function done(err: Error | null, result?: R): void {
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

