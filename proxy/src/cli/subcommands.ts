// The shape shared by `sluice drill` and `sluice accounts`: an action word picks what to run,
// help prints the usage, a usage mistake exits 2 with the usage, a refusal exits 1 with its lines.
import { UsageError } from './usage-error.ts';
import type { CommandOutput } from './validate.ts';

export type Action = (args: readonly string[]) => Promise<number>;

export interface Subcommands {
  /** How the command names itself in messages, e.g. `sluice drill`. */
  readonly command: string;
  readonly usage: string;
  readonly actions: ReadonlyMap<string, Action>;
  /** The lines of an error that ends the command with exit 1, or null to let the error through. */
  readonly refusal: (error: unknown) => readonly string[] | null;
}

export async function runSubcommand(spec: Subcommands, args: readonly string[], output: CommandOutput): Promise<number> {
  const [action, ...rest] = args;
  try {
    const run = action === undefined ? undefined : spec.actions.get(action);
    if (run !== undefined) return await run(rest);
    if (action === '-h' || action === '--help' || action === 'help') {
      output.out(spec.usage);
      return 0;
    }
    throw new UsageError(action === undefined ? 'missing action' : `unknown action '${action}'`);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`${spec.command}: ${error.message}`);
      output.err(spec.usage);
      return 2;
    }
    const lines = spec.refusal(error);
    if (lines === null) throw error;
    for (const line of lines) output.err(line);
    return 1;
  }
}
