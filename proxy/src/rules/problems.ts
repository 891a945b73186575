// A problem found in the rules, reported as `file:line:col: path.to.key: message`.

/** A place in the rules: a key path such as ['callers', 'accounts', 2, 'class']. */
export type KeyPath = readonly (string | number)[];

export interface Position {
  /** File as the operator named it (relative when the target was relative). */
  readonly file: string;
  /** 1-based; 0 when the problem is about the file as a whole. */
  readonly line: number;
  readonly col: number;
}

export interface Problem {
  readonly at: Position;
  readonly path: KeyPath | null;
  readonly message: string;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `callers.accounts[2].class`; `(root)` for the document itself; odd keys quoted: `overrides["10086"]`. */
export function formatPath(path: KeyPath): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

export function formatPosition(at: Position): string {
  return at.line > 0 ? `${at.file}:${at.line}:${at.col}` : at.file;
}

export function formatProblem(problem: Problem): string {
  const path = problem.path === null ? '' : `${formatPath(problem.path)}: `;
  return `${formatPosition(problem.at)}: ${path}${problem.message}`;
}

/** By file, then line, then column; the order of finding breaks ties. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort(
      (a, b) =>
        compare(a.problem.at.file, b.problem.at.file) ||
        a.problem.at.line - b.problem.at.line ||
        a.problem.at.col - b.problem.at.col ||
        a.index - b.index,
    )
    .map((entry) => entry.problem);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
