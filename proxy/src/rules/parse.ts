// Parses one rules file with yaml, keeping where every key and value is written.

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Origin } from './origins.ts';
import type { KeyPath, Position, Problem } from './problems.ts';
import type { SourceFile } from './sources.ts';

export interface ParsedFile {
  readonly source: SourceFile;
  /** The document as plain data; null for an empty file or one that did not parse. */
  readonly value: unknown;
  /** Origin of every key path in this file, in document order. */
  readonly origins: readonly { readonly path: KeyPath; readonly origin: Origin }[];
  readonly problems: readonly Problem[];
}

export function parseSource(source: SourceFile): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: source.display, line, col };
  };

  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => ({ at: at(error.pos[0]), path: null, message: yamlMessage(error.message) }));
    return { source, value: null, origins: [], problems };
  }

  const origins: { path: KeyPath; origin: Origin }[] = [];
  const walk = (node: Node, path: KeyPath, key: Position | null): void => {
    origins.push({ path, origin: { key, value: node.range ? at(node.range[0]) : (key ?? at(0)), path } });
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const keyAt = keyNode?.range ? at(keyNode.range[0]) : at(0);
        const valueNode = pair.value as Node | null;
        const childPath = [...path, name];
        // An empty value or an alias has no node of its own here: point at the key.
        if (valueNode === null || isAlias(valueNode)) origins.push({ path: childPath, origin: { key: keyAt, value: keyAt, path: childPath } });
        else walk(valueNode, childPath, keyAt);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        if (item !== null && !isAlias(item)) walk(item as Node, [...path, index], null);
      });
    }
  };
  const root = doc.contents as Node | null;
  if (root !== null) walk(root, [], null);

  try {
    return { source, value: doc.toJS({ maxAliasCount: 100 }) as unknown, origins, problems: [] };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { source, value: null, origins, problems: [{ at: at(0), path: null, message: yamlMessage(message) }] };
  }
}

/** yaml's messages start with the problem; keep that part only, without the code excerpt. */
function yamlMessage(message: string): string {
  if (message.startsWith('Source contains multiple documents')) {
    return "YAML syntax: one document per file expected, found a second one ('---')";
  }
  const first = message.split('\n')[0].trim();
  return `YAML syntax: ${first.charAt(0).toLowerCase()}${first.slice(1)}`;
}
