// Finds and reads the rules files: one file, or every *.yaml / *.yml in a directory (sorted,
// not recursive, dotfiles skipped). Symlinks are followed: Kubernetes ConfigMaps mount each
// file as a symlink into a `..data` directory that is itself a symlink swapped on update.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Problem } from './problems.ts';

export interface SourceFile {
  /** As shown in problems: the target joined with the file name. */
  readonly display: string;
  readonly absolute: string;
  /** File name within the target, used for the rules hash. */
  readonly name: string;
  readonly text: string;
}

export type Sources =
  | { readonly ok: true; readonly files: readonly SourceFile[] }
  | { readonly ok: false; readonly problem: Problem };

const RULES_FILE = /\.ya?ml$/;

export async function readSources(target: string): Promise<Sources> {
  try {
    const info = await stat(target);
    if (!info.isDirectory()) return { ok: true, files: [await readSource(target, target)] };
    const names = (await readdir(target)).filter((name) => !name.startsWith('.') && RULES_FILE.test(name)).sort();
    const files: SourceFile[] = [];
    for (const name of names) {
      const display = join(target, name);
      // A dangling symlink or a directory named *.yaml is not a rules file.
      const entry = await stat(display).catch(() => null);
      if (entry === null || !entry.isFile()) continue;
      files.push(await readSource(display, name));
    }
    if (files.length === 0) return fileProblem(target, 'no rules files (*.yaml, *.yml) in this directory');
    return { ok: true, files };
  } catch (error) {
    return fileProblem(pathOf(error) ?? target, describe(error));
  }
}

async function readSource(display: string, name: string): Promise<SourceFile> {
  const text = await readFile(display, 'utf8');
  return { display, absolute: resolve(display), name, text };
}

function fileProblem(file: string, message: string): Sources {
  return { ok: false, problem: { at: { file, line: 0, col: 0 }, path: null, message } };
}

const FS_MESSAGES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
};

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && code in FS_MESSAGES) return FS_MESSAGES[code];
  return error instanceof Error ? error.message : String(error);
}

function pathOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).path;
}
