// Loads the rules: read the files, parse them keeping positions, merge, validate against the
// schema, check cross-references, normalize. Every problem is collected (not just the first)
// as `file:line:col: path.to.key: message`. Never throws for bad input.

import { createHash } from 'node:crypto';
import { mergeFiles } from './merge.ts';
import { normalizeRules } from './normalize.ts';
import { parseSource } from './parse.ts';
import { formatProblem, sortProblems, type Problem } from './problems.ts';
import { checkSchema } from './schema-check.ts';
import { checkSemantics } from './semantics.ts';
import { readSources, type SourceFile } from './sources.ts';
import type { LoadResult } from './types.ts';

export async function loadRules(target: string): Promise<LoadResult> {
  const sources = await readSources(target);
  if (!sources.ok) return { ok: false, errors: [formatProblem(sources.problem)], files: [] };
  return evaluateSources(sources.files);
}

/** The checks of loadRules on files already read: lets an edit be verified before it is written. */
export function evaluateSources(sources: readonly SourceFile[]): LoadResult {
  const files = sources.map((file) => file.absolute);
  const parsed = sources.map(parseSource);
  const syntax = parsed.flatMap((file) => file.problems);
  // A file that does not parse would make every later check misleading: report syntax alone.
  if (syntax.length > 0) return failed(syntax, files);

  const merged = mergeFiles(parsed);
  const problems: Problem[] = [
    ...merged.problems,
    ...checkSchema(merged.value, merged.origins),
    ...checkSemantics(merged.value, merged.origins),
  ];
  if (problems.length > 0) return failed(problems, files);

  return { ok: true, rules: normalizeRules(merged.value), files, hash: rulesHash(sources) };
}

function failed(problems: readonly Problem[], files: readonly string[]): LoadResult {
  return { ok: false, errors: sortProblems(problems).map(formatProblem), files };
}

/** Identifies the rules version: file names and contents, independent of where they are mounted. */
export function rulesHash(files: readonly SourceFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    hash.update(file.name).update('\0').update(file.text).update('\0');
  }
  return hash.digest('hex');
}
