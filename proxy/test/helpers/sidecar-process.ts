// Runs `sluice start` as a real child process (real sockets, real signals) and learns its ports
// from its 'started' log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.ts';

export const SLUICE_BIN = fileURLToPath(new URL('../../../bin/sluice.js', import.meta.url));

export interface SidecarProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly adminPort: number;
  readonly url: string;
  readonly adminUrl: string;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  readonly stderr: () => string;
  /** SIGTERM, then wait for exit; answers the exit code. */
  stop(): Promise<number | null>;
}

export async function startSidecar(
  rules: string,
  options: { extraArgs?: string[]; env?: Record<string, string>; timeoutMs?: number; admin?: string } = {},
): Promise<SidecarProcess> {
  const child = spawn(
    process.execPath,
    [SLUICE_BIN, 'start', '--rules', rules, '--listen', '127.0.0.1:0', '--admin', options.admin ?? '127.0.0.1:0', ...(options.extraArgs ?? [])],
    { env: { ...process.env, SLUICE_LOG_LEVEL: 'info', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));
  const started = await waitFor(
    () => {
      if (exited) throw new Error(`sluice exited before starting: ${stderr}`);
      return logs.find((line) => line.event === 'started') ?? null;
    },
    { timeoutMs: options.timeoutMs ?? 15_000, message: 'sluice to start' },
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}; stderr: ${stderr}`);
  });
  const port = Number(String(started.listen).split(':').pop());
  const adminPort = Number(String(started.admin).split(':').pop());
  return {
    child,
    port,
    adminPort,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    logs,
    stderr: () => stderr,
    async stop() {
      if (exited) return child.exitCode;
      const exit = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
      return child.exitCode;
    },
  };
}
