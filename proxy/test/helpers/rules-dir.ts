// A sidecar process on a rules text of the test's own, in a temporary directory removed on close.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSidecar, type SidecarProcess } from './sidecar-process.ts';

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
