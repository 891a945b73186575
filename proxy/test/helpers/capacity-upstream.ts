// A stand-in member service of fixed capacity: `capacity` requests served at once, each for
// `serviceMs`, the rest waiting in a FIFO queue — how a real service behaves past its
// concurrency, where every caller's latency grows with the queue. It runs in a process of its
// own, as a member service does, so the load generator's work does not delay its timers. Both
// settings can change while it runs (a cluster getting slower at lunch hour).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.ts';

const MAIN = fileURLToPath(new URL('./capacity-upstream-main.ts', import.meta.url));

export interface CapacityFigures {
  readonly capacity: number;
  readonly serviceMs: number;
  readonly busy: number;
  readonly queued: number;
  readonly served: number;
  /** Most requests waiting at once so far. */
  readonly maxQueued: number;
}

export interface CapacityUpstream {
  readonly port: number;
  readonly url: string;
  /** Changes capacity and/or service time; resolves once in force. */
  set(settings: { capacity?: number; serviceMs?: number }): Promise<void>;
  figures(): Promise<CapacityFigures>;
  close(): Promise<void>;
}

export async function startCapacityUpstream(name: string, capacity: number, serviceMs: number): Promise<CapacityUpstream> {
  const child: ChildProcess = spawn(process.execPath, [MAIN, name, String(capacity), String(serviceMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => (out += chunk));
  const port = await waitFor(() => {
    if (child.exitCode !== null) throw new Error('capacity upstream exited');
    const match = /listening (\d+)/.exec(out);
    return match === null ? null : Number(match[1]);
  }, { timeoutMs: 10_000, message: 'capacity upstream to listen' });
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    async set(settings) {
      const query = new URLSearchParams();
      if (settings.capacity !== undefined) query.set('capacity', String(settings.capacity));
      if (settings.serviceMs !== undefined) query.set('serviceMs', String(settings.serviceMs));
      const res = await fetch(`${url}/_control?${query}`, { method: 'POST' });
      await res.text();
    },
    async figures() {
      const res = await fetch(`${url}/_control`);
      return (await res.json()) as CapacityFigures;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
