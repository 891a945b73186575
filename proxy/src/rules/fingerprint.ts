// A cheap content hash of the rules files, so the watcher's frequent "look again" costs a few
// reads, and the full parse + validation only runs when something really changed.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export async function rulesFingerprint(target: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    const info = await stat(target);
    const files = info.isDirectory()
      ? (await readdir(target))
          .filter((name) => !name.startsWith('.') && (name.endsWith('.yaml') || name.endsWith('.yml')))
          .sort()
          .map((name) => join(target, name))
      : [target];
    for (const file of files) {
      hash.update(file).update('\0');
      hash.update(await readFile(file)).update('\0');
    }
  } catch (error) {
    // Unreadable now (mid-swap, removed): a distinct fingerprint makes the loader report it.
    hash.update(`error:${(error as NodeJS.ErrnoException).code ?? 'unknown'}`);
  }
  return hash.digest('hex');
}
