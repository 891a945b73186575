// Merges the rules files of a directory into one document. Map sections merge key by key and a
// key defined in two files is an error naming both places; list sections (accounts, hot keys,
// degrade rules, mirrors, adaptive limits) are concatenated in file order. Identical `version:`
// lines may repeat.

import { Origins } from './origins.ts';
import type { ParsedFile } from './parse.ts';
import { formatPosition, type KeyPath, type Problem } from './problems.ts';

export interface Merged {
  readonly value: Record<string, unknown>;
  readonly origins: Origins;
  readonly problems: readonly Problem[];
}

/** Containers whose keys may come from different files. */
const MAP_SECTIONS = new Set(['', 'server', 'store', 'clusters', 'classes', 'switch', 'callers', 'limits', 'limits.global']);
/** Lists whose items from several files are concatenated. */
const LIST_SECTIONS = new Set(['callers.accounts', 'limits.hot_keys', 'limits.adaptive', 'degrade', 'mirrors']);

export function mergeFiles(files: readonly ParsedFile[]): Merged {
  const fallback = { file: files[0]?.source.display ?? '', line: 1, col: 1 };
  const origins = new Origins(fallback);
  const value: Record<string, unknown> = {};
  const problems: Problem[] = [];

  for (const file of files) {
    if (file.value === null || file.value === undefined) continue;
    const own = new Origins({ file: file.source.display, line: 1, col: 1 });
    for (const entry of file.origins) own.add(entry.path, entry.origin);
    if (!isPlainObject(file.value)) {
      problems.push(own.problem([], 'must be a mapping of sections (version, clusters, classes, ...)'));
      continue;
    }
    // Items appended to a list section keep their origins, shifted by the items already there.
    const shifts: { prefix: KeyPath; by: number }[] = [];
    const mergeMap = (into: Record<string, unknown>, from: Record<string, unknown>, path: KeyPath): void => {
      for (const [key, incoming] of Object.entries(from)) {
        const childPath = [...path, key];
        const dotted = childPath.join('.');
        const existing = into[key];
        if (incoming === null) {
          if (!(key in into)) into[key] = null;
        } else if (existing === undefined || existing === null) {
          into[key] = incoming;
        } else if (MAP_SECTIONS.has(dotted) && isPlainObject(existing) && isPlainObject(incoming)) {
          mergeMap(existing, incoming, childPath);
        } else if (LIST_SECTIONS.has(dotted) && Array.isArray(existing) && Array.isArray(incoming)) {
          shifts.push({ prefix: childPath, by: existing.length });
          existing.push(...(incoming as unknown[]));
        } else if (!(dotted === 'version' && existing === incoming)) {
          const first = formatPosition(origins.locate(childPath, true));
          problems.push(own.problem(childPath, `defined in two files (also at ${first})`, true));
        }
      }
    };
    mergeMap(value, file.value, []);

    for (const { path, origin } of file.origins) origins.add(shift(path, shifts), origin);
  }
  return { value, origins, problems };
}

function shift(path: KeyPath, shifts: readonly { prefix: KeyPath; by: number }[]): KeyPath {
  for (const { prefix, by } of shifts) {
    if (path.length > prefix.length && prefix.every((segment, i) => path[i] === segment)) {
      const moved = [...path];
      moved[prefix.length] = (moved[prefix.length] as number) + by;
      return moved;
    }
  }
  return path;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
