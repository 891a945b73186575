// Where each key and value of the merged rules came from, so every problem found on the merged
// document points back to a file, line and column.

import type { KeyPath, Position, Problem } from './problems.ts';

export interface Origin {
  /** Where the key is written; null for list items and the document root. */
  readonly key: Position | null;
  /** Where the value starts. */
  readonly value: Position;
  /** The key path as written in its own file (list indexes differ once files are merged). */
  readonly path: KeyPath;
}

export class Origins {
  readonly #byPath = new Map<string, Origin>();
  readonly #fallback: Position;

  constructor(fallback: Position) {
    this.#fallback = fallback;
  }

  /** Keeps the first origin recorded for a path (the file that defined it first). */
  add(path: KeyPath, origin: Origin): void {
    const id = pathId(path);
    if (!this.#byPath.has(id)) this.#byPath.set(id, origin);
  }

  get(path: KeyPath): Origin | undefined {
    return this.#byPath.get(pathId(path));
  }

  /**
   * Position of a path, or of its nearest recorded ancestor. `preferKey` points at the key
   * (`primary:`) rather than its value: right for unknown or missing keys.
   */
  locate(path: KeyPath, preferKey = false): Position {
    for (let length = path.length; length >= 0; length--) {
      const origin = this.#byPath.get(pathId(path.slice(0, length)));
      if (origin === undefined) continue;
      return preferKey || length < path.length ? (origin.key ?? origin.value) : origin.value;
    }
    return this.#fallback;
  }

  /** The key path as its file writes it: `callers.accounts[0]` of the second file, not `[3]`. */
  written(path: KeyPath): KeyPath {
    for (let length = path.length; length > 0; length--) {
      const origin = this.#byPath.get(pathId(path.slice(0, length)));
      if (origin !== undefined) return [...origin.path, ...path.slice(length)];
    }
    return path;
  }

  /** A problem about a path of the merged document, placed and named as written. */
  problem(path: KeyPath, message: string, atKey = false): Problem {
    return { at: this.locate(path, atKey), path: this.written(path), message };
  }
}

function pathId(path: KeyPath): string {
  return JSON.stringify(path);
}
