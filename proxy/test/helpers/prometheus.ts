// A real Prometheus server for tests: a temp config scraping the given targets every second, on a
// free loopback port, queried through its HTTP API. Installed by scripts/install-prometheus.sh.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './servers.ts';
import { waitFor } from './wait-for.ts';

/** Path of a Prometheus tool (`prometheus`, `promtool`) on PATH or in /usr/bin, or null. */
export function findPrometheusTool(name: 'prometheus' | 'promtool'): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export const MISSING_TOOLS_HINT = 'run scripts/install-prometheus.sh to install prometheus and promtool';

export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  /** Instant vectors: [unix seconds, value]. */
  readonly value?: readonly [number, string];
  /** Range vectors (matrix): one [unix seconds, value] per point. */
  readonly values?: readonly (readonly [number, string])[];
}

export interface SeriesResult {
  readonly resultType: 'vector' | 'matrix';
  readonly result: readonly PromSample[];
}

export interface ScalarResult {
  readonly resultType: 'scalar' | 'string';
  readonly result: readonly [number, string];
}

export type QueryResult = SeriesResult | ScalarResult;

export function isSeries(result: QueryResult): result is SeriesResult {
  return result.resultType === 'vector' || result.resultType === 'matrix';
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

export interface PrometheusServer {
  readonly url: string;
  readonly port: number;
  /** Evaluates a PromQL expression at the current time; throws with Prometheus's error when it fails. */
  query(expr: string): Promise<QueryResult>;
  /** Values of one label over the series matching the selector (Grafana's label_values()). */
  labelValues(label: string, match?: string): Promise<string[]>;
  /** Kills the server and removes its config and storage. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Scrape targets as host:port. */
  readonly targets: readonly string[];
  readonly metricsPath?: string;
  readonly scrapeIntervalSeconds?: number;
  readonly readyTimeoutMs?: number;
}

/** True when the query answered something: a non-empty vector or matrix, or any scalar. */
export function hasData(result: QueryResult): boolean {
  return !isSeries(result) || result.result.length > 0;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const answer = (await response.json()) as ApiAnswer<T>;
  if (answer.status !== 'success' || answer.data === undefined) {
    throw new Error(`${answer.errorType ?? `HTTP ${response.status}`}: ${answer.error ?? 'no data'}`);
  }
  return answer.data;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const binary = findPrometheusTool('prometheus');
  if (binary === null) throw new Error(`prometheus not found: ${MISSING_TOOLS_HINT}`);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-prometheus-'));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  // JSON is YAML: no YAML writer needed for the config.
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [
      {
        job_name: 'sluice',
        metrics_path: options.metricsPath ?? '/metrics',
        static_configs: [{ targets: [...options.targets] }],
      },
    ],
  };
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));

  // The port is free when picked but may be taken before Prometheus binds it: retry on a new one.
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`prometheus exited: ${stderr.trim()}`);
          const response = await fetch(`${url}/-/ready`);
          await response.arrayBuffer();
          return response.ok;
        },
        { timeoutMs: options.readyTimeoutMs ?? 20_000, intervalMs: 50, message: `prometheus ready on ${url}` },
      );
      return server(child, url, port, dir);
    } catch (error) {
      lastError = error instanceof Error ? error : new Error(String(error));
      await kill(child);
      if (!exited) break; // running but never ready: another port will not help
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError ?? new Error('prometheus did not start');
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function server(child: ChildProcess, url: string, port: number, dir: string): PrometheusServer {
  return {
    url,
    port,
    query: async (expr) => {
      try {
        return await api<QueryResult>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      } catch (error) {
        throw new Error(`query failed: ${expr}\n  ${(error as Error).message}`);
      }
    },
    labelValues: (label, match) => {
      const filter = match === undefined ? '' : `?match[]=${encodeURIComponent(match)}`;
      return api<string[]>(`${url}/api/v1/label/${encodeURIComponent(label)}/values${filter}`);
    },
    stop: async () => {
      await kill(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
