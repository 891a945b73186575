// A mistake in how the command was called: exit code 2, one line, no stack trace.
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `--flag value` / `--flag=value` pairs and positional words; flags not in `known` are usage errors. */
export function parseFlags(
  args: readonly string[],
  known: readonly string[],
  repeatable: readonly string[] = [],
  booleans: readonly string[] = [],
): { flags: Map<string, string[]>; positional: string[] } {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!known.includes(name) && !booleans.includes(name)) throw new UsageError(`unknown option --${name}`);
    let value: string;
    if (booleans.includes(name)) value = eq === -1 ? 'true' : arg.slice(eq + 1);
    else if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`option --${name} needs a value`);
      value = next;
      i++;
    }
    const list = flags.get(name);
    if (list === undefined) flags.set(name, [value]);
    else if (repeatable.includes(name)) list.push(value);
    else throw new UsageError(`option --${name} given twice`);
  }
  return { flags, positional };
}
