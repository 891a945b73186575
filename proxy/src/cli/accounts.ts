// `sluice accounts register | list | rotate-key`: manage caller accounts in the rules files.
// The callers file is edited in place keeping its comments and layout, written atomically, and
// only after the edited rules are proven to load. A new secret is printed once; only its
// SHA-256 is stored.

import { createHash, randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { addAccount, callersIn, setAccountKey, setAccountQuota } from '../rules/accounts-edit.ts';
import { REPORT_USAGE, reportCommand } from './accounts-report.ts';
import { evaluateSources } from '../rules/load.ts';
import { formatProblem } from '../rules/problems.ts';
import { parseRoutePattern } from '../rules/route-pattern.ts';
import { ACCOUNT_ID_PATTERN } from '../rules/schema.ts';
import { readSources, type SourceFile } from '../rules/sources.ts';
import type { Rules } from '../rules/types.ts';
import { parseRate } from '../rules/units.ts';
import { runSubcommand } from './subcommands.ts';
import { parseFlags, UsageError } from './usage-error.ts';
import { defaultRulesTarget, processOutput, type CommandOutput } from './validate.ts';

const USAGE = `usage: sluice accounts register --id ID --owner NAME --team TEAM --scenario TEXT --class CLASS --quota RATE
                                 [--burst N] [--routes 'GET /members/*' ...] [--rules DIR_OR_FILE]
       sluice accounts list [--rules DIR_OR_FILE]
       sluice accounts rotate-key ID [--rules DIR_OR_FILE]
       sluice accounts set-quota ID RATE [--rules DIR_OR_FILE]
       ${REPORT_USAGE}`;

/** The rules or the request make the command impossible: exit 1 with these lines. */
class Refused extends Error {
  readonly lines: readonly string[];
  constructor(...lines: string[]) {
    super(lines[0]);
    this.lines = lines;
  }
}

export async function accountsCommand(args: readonly string[], output: CommandOutput = processOutput): Promise<number> {
  return runSubcommand(
    {
      command: 'sluice accounts',
      usage: USAGE,
      actions: new Map([
        ['register', (rest: readonly string[]) => register(rest, output)],
        ['list', (rest: readonly string[]) => list(rest, output)],
        ['rotate-key', (rest: readonly string[]) => rotateKey(rest, output)],
        ['set-quota', (rest: readonly string[]) => setQuota(rest, output)],
        ['report', (rest: readonly string[]) => reportCommand(rest, output)],
      ]),
      refusal: (error) => (error instanceof Refused ? error.lines : null),
    },
    args,
    output,
  );
}

async function register(args: readonly string[], output: CommandOutput): Promise<number> {
  const { flags, positional } = parseFlags(
    expandRoutes(args),
    ['id', 'owner', 'team', 'scenario', 'class', 'quota', 'burst', 'routes', 'rules'],
    ['routes'],
  );
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const required = (name: string): string => {
    const value = flags.get(name)?.[0];
    if (value === undefined || value.trim() === '') throw new UsageError(`missing --${name}`);
    return value.trim();
  };
  const id = required('id');
  const owner = required('owner');
  const team = required('team');
  const scenario = required('scenario');
  const className = required('class');
  const quota = required('quota');
  const burstText = flags.get('burst')?.[0];
  const routes = flags.get('routes');

  const { files, rules } = await currentRules(flags.get('rules')?.[0]);
  if (!new RegExp(ACCOUNT_ID_PATTERN).test(id)) {
    throw new Refused(`sluice accounts: --id '${id}': letters, digits, ., - or _ only`);
  }
  if (id === 'unknown') throw new Refused("sluice accounts: --id 'unknown' is reserved for callers without an account");
  const holder = files.find((file) => callersIn(file.text).accountIds.includes(id));
  if (holder !== undefined) throw new Refused(`sluice accounts: account '${id}' already exists (in ${holder.display})`);
  if (!rules.classes.some((c) => c.name === className)) {
    throw new Refused(`sluice accounts: unknown class '${className}' (classes: ${rules.classes.map((c) => c.name).join(', ')})`);
  }
  if (parseRate(quota) === null) throw new Refused(`sluice accounts: --quota '${quota}': must be a rate like 200/s or 3000/min`);
  let burst: number | undefined;
  if (burstText !== undefined) {
    burst = Number(burstText);
    if (!/^\d+$/.test(burstText) || !Number.isSafeInteger(burst)) {
      throw new Refused(`sluice accounts: --burst '${burstText}': must be a whole number >= 0`);
    }
  }
  for (const route of routes ?? []) {
    const parsed = parseRoutePattern(route);
    if (!parsed.ok) throw new Refused(`sluice accounts: --routes: ${parsed.error}`);
  }

  const target = callersFile(files);
  const secret = newSecret();
  const text = addAccount(target.text, {
    id,
    owner,
    team,
    scenario,
    class: className,
    keySha256: sha256(secret),
    quota,
    burst,
    routes,
  });
  await verifyAndWrite(files, target, text, (next) => next.callers.accounts.some((a) => a.id === id));

  output.out(`registered '${id}' in ${target.display} (class ${className}, quota ${quota})`);
  printSecret(output, id, secret);
  return 0;
}

async function rotateKey(args: readonly string[], output: CommandOutput): Promise<number> {
  const { flags, positional } = parseFlags(args, ['rules']);
  if (positional.length !== 1) throw new UsageError('rotate-key takes one account id');
  const id = positional[0];
  const { files } = await currentRules(flags.get('rules')?.[0]);
  const target = files.find((file) => callersIn(file.text).accountIds.includes(id));
  if (target === undefined) throw new Refused(`sluice accounts: no account '${id}'`);

  const secret = newSecret();
  const hash = sha256(secret);
  const text = setAccountKey(target.text, id, hash);
  if (text === null) throw new Refused(`sluice accounts: no account '${id}' in ${target.display}`);
  await verifyAndWrite(files, target, text, (next) => next.callers.accounts.some((a) => a.id === id && a.keySha256 === hash));

  output.out(`new key for '${id}' in ${target.display}; the old key stops working once the rules reload`);
  printSecret(output, id, secret);
  return 0;
}

async function setQuota(args: readonly string[], output: CommandOutput): Promise<number> {
  const { flags, positional } = parseFlags(args, ['rules']);
  if (positional.length !== 2) throw new UsageError('set-quota takes an account id and a rate, e.g. set-quota order-center 3000/s');
  const [id, quota] = positional;
  const rate = parseRate(quota);
  if (rate === null) throw new Refused(`sluice accounts: '${quota}': must be a rate like 200/s or 3000/min`);
  const { files } = await currentRules(flags.get('rules')?.[0]);
  const target = files.find((file) => callersIn(file.text).accountIds.includes(id));
  if (target === undefined) throw new Refused(`sluice accounts: no account '${id}'`);
  const text = setAccountQuota(target.text, id, quota);
  if (text === null) throw new Refused(`sluice accounts: no account '${id}' in ${target.display}`);
  await verifyAndWrite(files, target, text, (next) =>
    next.callers.accounts.some((a) => a.id === id && a.quota?.perSecond === rate.perSecond),
  );
  output.out(`quota of '${id}' set to ${quota} in ${target.display}; in force once the rules reload`);
  return 0;
}

async function list(args: readonly string[], output: CommandOutput): Promise<number> {
  const { flags, positional } = parseFlags(args, ['rules']);
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const { rules } = await currentRules(flags.get('rules')?.[0]);
  const rows = [['ID', 'CLASS', 'QUOTA', 'BURST', 'TEAM', 'OWNER', 'ROUTES', 'SCENARIO']];
  for (const a of rules.callers.accounts) {
    rows.push([
      a.id,
      a.class,
      a.quota?.text ?? '-',
      String(a.burst),
      a.team,
      a.owner,
      a.routes === null ? 'any' : String(a.routes.length),
      a.scenario,
    ]);
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) output.out(row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
  return 0;
}

/** Accepts `--routes A B C` as well as repeated `--routes A --routes B`. */
function expandRoutes(args: readonly string[]): string[] {
  const expanded: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--routes') {
      expanded.push(args[i]);
      continue;
    }
    let taken = 0;
    while (i + 1 < args.length && !args[i + 1].startsWith('--')) {
      expanded.push(`--routes=${args[++i]}`);
      taken++;
    }
    if (taken === 0) throw new UsageError('option --routes needs a value');
  }
  return expanded;
}

async function currentRules(given: string | undefined): Promise<{ files: readonly SourceFile[]; rules: Rules }> {
  const sources = await readSources(given ?? defaultRulesTarget());
  if (!sources.ok) throw new Refused(formatProblem(sources.problem));
  const loaded = evaluateSources(sources.files);
  if (!loaded.ok) throw new Refused(...loaded.errors, 'sluice accounts: fix the rules above first (sluice validate)');
  return { files: sources.files, rules: loaded.rules };
}

/** The file that holds the accounts: the one with callers.accounts, else the one with callers:. */
function callersFile(files: readonly SourceFile[]): SourceFile {
  const found =
    files.find((file) => callersIn(file.text).accountIds.length > 0) ??
    files.find((file) => callersIn(file.text).hasCallers) ??
    (files.length === 1 ? files[0] : undefined);
  if (found === undefined) {
    const names = files.map((f) => f.display).join(', ');
    throw new Refused(`sluice accounts: no rules file has a callers: section; add 'callers:' to one of ${names}`);
  }
  return found;
}

async function verifyAndWrite(
  files: readonly SourceFile[],
  target: SourceFile,
  text: string,
  applied: (rules: Rules) => boolean,
): Promise<void> {
  const edited = files.map((file) => (file === target ? { ...file, text } : file));
  const result = evaluateSources(edited);
  const refusing = `sluice accounts: refusing to write ${target.display}`;
  if (!result.ok) throw new Refused(`${refusing}: the result would not load:`, ...result.errors);
  if (!applied(result.rules)) throw new Refused(`${refusing}: the edit did not take effect`);
  await writeAtomically(target.absolute, text);
}

/** Temp file in the same directory, synced, then renamed over the original: readers see old or new, never half. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const real = await realpath(path);
  const { mode } = await stat(real);
  const temp = join(dirname(real), `.${basename(real)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode & 0o777);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, real);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function printSecret(output: CommandOutput, id: string, secret: string): void {
  output.out(`secret for '${id}' (shown once, only its SHA-256 is stored; callers send it as x-caller-key):`);
  output.out(secret);
}
