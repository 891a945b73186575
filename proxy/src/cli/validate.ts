// `sluice validate [DIR_OR_FILE]`: checks the rules offline (CI, before a deploy) with the same
// loader the sidecar uses. Exit 0 and a one-line summary, or 1 and one line per problem.

import { loadRules } from '../rules/load.ts';
import type { Rules } from '../rules/types.ts';
import { parseFlags, UsageError } from './usage-error.ts';

/** Where a command writes; tests pass their own to capture the lines. */
export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

export const processOutput: CommandOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

const USAGE = 'usage: sluice validate [DIR_OR_FILE]   (default: $SLUICE_RULES or rules/)';

export async function validateCommand(args: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  let target: string;
  try {
    if (args.includes('-h') || args.includes('--help')) {
      output.out(USAGE);
      return 0;
    }
    const { flags, positional } = parseFlags(args, ['rules']);
    const fromFlag = flags.get('rules')?.[0];
    if (positional.length > 1 || (positional.length === 1 && fromFlag !== undefined)) {
      throw new UsageError('expects one rules directory or file');
    }
    target = fromFlag ?? positional[0] ?? defaultRulesTarget();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`sluice validate: ${error.message}`);
    output.err(USAGE);
    return 2;
  }

  const result = await loadRules(target);
  if (!result.ok) {
    for (const line of result.errors) output.err(line);
    return 1;
  }
  output.out(`${target} valid: ${summarize(result.rules, result.files.length)} (version ${result.hash.slice(0, 12)})`);
  return 0;
}

/** `--rules` default shared by the commands: $SLUICE_RULES, else rules/. */
export function defaultRulesTarget(): string {
  const fromEnv = process.env.SLUICE_RULES;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'rules/';
}

function summarize(rules: Rules, files: number): string {
  return [
    count(files, 'file'),
    count(rules.clusters.size, 'cluster'),
    count(rules.classes.length, 'class', 'classes'),
    count(rules.callers.accounts.length, 'account'),
    count(rules.limits.hotKeys.length, 'hot-key rule'),
    count(rules.degrade.length, 'degrade rule'),
    ...migrationCounts(rules),
    // Named only when present, so the line for rules without them reads as before.
    ...(rules.limits.adaptive.length > 0 ? [count(rules.limits.adaptive.length, 'adaptive limit')] : []),
  ].join(', ');
}

/** Splits and mirrors, named only when the rules have some (a migration under way). */
function migrationCounts(rules: Rules): string[] {
  const splits = rules.classes.filter((cls) => cls.split != null).length;
  const mirrors = rules.mirrors?.length ?? 0;
  return [...(splits > 0 ? [count(splits, 'split')] : []), ...(mirrors > 0 ? [count(mirrors, 'mirror')] : [])];
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
