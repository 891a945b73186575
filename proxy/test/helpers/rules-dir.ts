// A sidecar process on a rules text of the test's own, in a temporary directory removed on close;
// the text may be replaced while it runs (hot reload).
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminJson } from './admin.ts';
import { startSidecar, type SidecarProcess } from './sidecar-process.ts';
import { waitFor } from './wait-for.ts';

export interface OwnSidecar {
  readonly sidecar: SidecarProcess;
  readonly dir: string;
  close(): Promise<void>;
}

export async function sidecarOn(rules: string, env: Record<string, string> = {}): Promise<OwnSidecar> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-own-'));
  await writeFile(join(dir, 'rules.yaml'), rules);
  const sidecar = await startSidecar(dir, { env }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    sidecar,
    dir,
    async close() {
      await sidecar.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RulesDirSidecar extends OwnSidecar {
  /** Replaces rules.yaml (written aside, renamed over) and waits until the new version is in force; answers ms. */
  reload(text: string): Promise<number>;
}

export async function sidecarOnRules(rules: string): Promise<RulesDirSidecar> {
  const own = await sidecarOn(rules);
  const status = (): Promise<{ version: string; last_error: { errors: string[] } | null }> => adminJson(own.sidecar, '/admin/rules');
  return {
    ...own,
    async reload(next) {
      const before = (await status()).version;
      const since = performance.now();
      const aside = join(own.dir, '.rules.yaml.next');
      await writeFile(aside, next);
      await rename(aside, join(own.dir, 'rules.yaml'));
      await waitFor(
        async () => {
          const now = await status();
          if (now.last_error !== null) throw new Error(`new rules refused: ${now.last_error.errors.join('; ')}`);
          return now.version !== before;
        },
        { timeoutMs: 5000, intervalMs: 20, message: 'the new rules to be in force' },
      );
      return performance.now() - since;
    },
  };
}
