// A rules directory in a temporary place, rewritten atomically (written aside, renamed over) for
// hot-reload tests, and a sidecar process running on it.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminJson } from './admin.ts';
import { startSidecar, type SidecarProcess } from './sidecar-process.ts';
import { waitFor } from './wait-for.ts';

export interface RulesDirSidecar {
  readonly sidecar: SidecarProcess;
  readonly dir: string;
  /** Replaces rules.yaml and waits until the new version is in force; answers how long that took, ms. */
  reload(text: string): Promise<number>;
  close(): Promise<void>;
}

export async function sidecarOnRules(text: string, prefix = 'sluice-rules-'): Promise<RulesDirSidecar> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, 'rules.yaml'), text);
  let sidecar: SidecarProcess;
  try {
    sidecar = await startSidecar(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const version = async (): Promise<{ version: string; last_error: { errors: string[] } | null }> =>
    adminJson(sidecar, '/admin/rules');
  return {
    sidecar,
    dir,
    async reload(next) {
      const before = (await version()).version;
      const since = performance.now();
      const aside = join(dir, '.rules.yaml.next');
      await writeFile(aside, next);
      await rename(aside, join(dir, 'rules.yaml'));
      await waitFor(
        async () => {
          const status = await version();
          if (status.last_error !== null) throw new Error(`new rules refused: ${status.last_error.errors.join('; ')}`);
          return status.version !== before;
        },
        { timeoutMs: 5000, intervalMs: 20, message: 'the new rules to be in force' },
      );
      return performance.now() - since;
    },
    async close() {
      await sidecar.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
