// A fleet of whole sidecar processes on one rules directory, between the same three stand-in
// clusters, sharing whatever store the rules name; and load driven at all of them at once.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricsText, metricValue } from './admin.ts';
import { startLoad, type LoadRequest, type LoadTally } from './load.ts';
import { startSidecar, type SidecarProcess } from './sidecar-process.ts';
import type { ClusterPorts } from './stack.ts';
import { startFakeCluster, type FakeCluster } from './upstreams.ts';

export interface Fleet {
  readonly primary: FakeCluster;
  readonly marketing: FakeCluster;
  readonly backup: FakeCluster;
  readonly ports: ClusterPorts;
  readonly dir: string;
  readonly sidecars: readonly SidecarProcess[];
  close(): Promise<void>;
}

/** Starts `count` sidecars on the same rules text (written to `rules.yaml`). */
export async function startFleet(count: number, rules: (ports: ClusterPorts) => string): Promise<Fleet> {
  const [primary, marketing, backup] = await Promise.all([
    startFakeCluster('primary'),
    startFakeCluster('marketing'),
    startFakeCluster('backup'),
  ]);
  const ports = { primary: primary.port, marketing: marketing.port, backup: backup.port };
  const dir = await mkdtemp(join(tmpdir(), 'sluice-fleet-'));
  const closeRest = async (sidecars: readonly SidecarProcess[]) => {
    await Promise.all(sidecars.map((s) => s.stop()));
    await Promise.all([primary.close(), marketing.close(), backup.close()]);
    await rm(dir, { recursive: true, force: true });
  };
  await writeFile(join(dir, 'rules.yaml'), rules(ports));
  const started = await Promise.allSettled(Array.from({ length: count }, () => startSidecar(dir)));
  const sidecars = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await closeRest(sidecars);
    throw failed.reason;
  }
  return { primary, marketing, backup, ports, dir, sidecars, close: () => closeRest(sidecars) };
}

/** `sluice_store_up` as the sidecar's admin port shows it. */
export async function storeUp(sidecar: SidecarProcess): Promise<number | null> {
  return metricValue(await metricsText(sidecar), 'sluice_store_up');
}

/** Whether every sidecar shows `sluice_store_up` = `value`. */
export async function allStoreUp(sidecars: readonly SidecarProcess[], value: 0 | 1): Promise<boolean> {
  const values = await Promise.all(sidecars.map(storeUp));
  return values.every((v) => v === value);
}

/** One answer of a fleet load: which sidecar, its status and reason, and when it was sent. */
export interface FleetAnswer {
  readonly sidecar: number;
  readonly status: number;
  /** x-sluice-reason, or '' on an admitted request. */
  readonly reason: string;
  /** performance.now() when sent. */
  readonly sentAt: number;
}

export interface FleetLoadResult {
  readonly answers: readonly FleetAnswer[];
  readonly tallies: readonly LoadTally[];
  /** Transport failures across the fleet (no answer at all). */
  readonly failures: readonly string[];
  /** First and last send across the fleet (performance.now()). */
  readonly firstSent: number;
  readonly lastSent: number;
}

export interface RunningFleetLoad {
  /** Answers so far (the live array). */
  readonly answers: readonly FleetAnswer[];
  stop(): Promise<FleetLoadResult>;
  readonly done: Promise<FleetLoadResult>;
}

/**
 * Saturating load on each of `sidecars` (`connections` requests in flight on each), bounded by
 * `durationMs` and by `maxRequests` per sidecar (default 50 000).
 */
export function startFleetLoad(
  sidecars: readonly SidecarProcess[],
  options: { connections: number; durationMs: number; maxRequests?: number; request: LoadRequest },
): RunningFleetLoad {
  const answers: FleetAnswer[] = [];
  let firstSent = Infinity;
  let lastSent = -Infinity;
  const loads = sidecars.map((sidecar, index) =>
    startLoad(sidecar.url, {
      connections: options.connections,
      durationMs: options.durationMs,
      maxRequests: options.maxRequests,
      request: options.request,
      onAnswer: (a) => {
        if (a.sentAt < firstSent) firstSent = a.sentAt;
        if (a.sentAt > lastSent) lastSent = a.sentAt;
        const reason = a.headers['x-sluice-reason'];
        answers.push({ sidecar: index, status: a.status, reason: typeof reason === 'string' ? reason : '', sentAt: a.sentAt });
      },
    }),
  );
  const result = (tallies: readonly LoadTally[]): FleetLoadResult => ({
    answers,
    tallies,
    failures: tallies.flatMap((t) => t.failures),
    firstSent,
    lastSent,
  });
  const done = Promise.all(loads.map((l) => l.done)).then(result);
  return {
    answers,
    async stop() {
      return result(await Promise.all(loads.map((l) => l.stop())));
    },
    done,
  };
}

/** Admitted answers (200) among those sent in [from, to). */
export function admittedBetween(answers: readonly FleetAnswer[], from: number, to: number): number {
  let n = 0;
  for (const a of answers) if (a.status === 200 && a.sentAt >= from && a.sentAt < to) n++;
  return n;
}

/** Answers counted by status, e.g. { 200: 912, 429: 8100 }. */
export function byStatus(answers: readonly FleetAnswer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}
