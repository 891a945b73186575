// A whole sidecar process between the three stand-in clusters, running on a rules file in a
// temporary directory that a test may rewrite (hot reload). Closed as a whole.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminJson } from './admin.ts';
import { startSidecar, type SidecarProcess } from './sidecar-process.ts';
import { startFakeCluster, type FakeCluster } from './upstreams.ts';
import { waitFor } from './wait-for.ts';

export interface ClusterPorts {
  readonly primary: number;
  readonly marketing: number;
  readonly backup: number;
}

export interface Stack {
  readonly primary: FakeCluster;
  readonly marketing: FakeCluster;
  readonly backup: FakeCluster;
  readonly ports: ClusterPorts;
  readonly dir: string;
  readonly sidecar: SidecarProcess;
  /** The rules version in force (/admin/rules). */
  version(): Promise<string>;
  /**
   * Replaces a rules file (written aside and renamed over, so it is never read half-written)
   * and waits until the sidecar runs on the new version; answers how long that took, ms.
   */
  reload(text: string, file?: string): Promise<number>;
  close(): Promise<void>;
}

/** The text of `rules.yaml`, or the texts of several files by name. */
export type RulesTexts = string | Readonly<Record<string, string>>;

export async function startStack(
  rules: (ports: ClusterPorts) => RulesTexts | Promise<RulesTexts>,
  options: { prefix?: string; env?: Record<string, string> } = {},
): Promise<Stack> {
  const [primary, marketing, backup] = await Promise.all([
    startFakeCluster('primary'),
    startFakeCluster('marketing'),
    startFakeCluster('backup'),
  ]);
  const ports = { primary: primary.port, marketing: marketing.port, backup: backup.port };
  const closeClusters = () => Promise.all([primary.close(), marketing.close(), backup.close()]);
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'sluice-e2e-'));
  let sidecar: SidecarProcess;
  try {
    const texts = await rules(ports);
    const files = typeof texts === 'string' ? { 'rules.yaml': texts } : texts;
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    sidecar = await startSidecar(dir, { env: options.env });
  } catch (error) {
    await closeClusters();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const version = async (): Promise<string> => (await adminJson<{ version: string }>(sidecar, '/admin/rules')).version;
  return {
    primary,
    marketing,
    backup,
    ports,
    dir,
    sidecar,
    version,
    async reload(text, file = 'rules.yaml') {
      const before = await version();
      const since = performance.now();
      // Not *.yaml: the half-written file is never part of the rules directory.
      const aside = join(dir, `.${file}.next`);
      await writeFile(aside, text);
      await rename(aside, join(dir, file));
      await waitFor(
        async () => {
          const status = await adminJson<{ version: string; last_error: { errors: string[] } | null }>(sidecar, '/admin/rules');
          if (status.last_error !== null) throw new Error(`new rules refused: ${status.last_error.errors.join('; ')}`);
          return status.version !== before;
        },
        { timeoutMs: 5000, intervalMs: 20, message: 'the new rules to be in force' },
      );
      return performance.now() - since;
    },
    async close() {
      await sidecar.stop();
      await closeClusters();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
