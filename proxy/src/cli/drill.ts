// `sluice drill start | stop | list`: chaos drills on a running sidecar through its admin API
// (POST/DELETE/GET /admin/faults), with the admin bearer token from the environment.
import { runSubcommand } from './subcommands.ts';
import { parseFlags, UsageError } from './usage-error.ts';
import { processOutput, type CommandOutput } from './validate.ts';

const USAGE = `usage: sluice drill start --name NAME --ttl DURATION [--delay 300ms] [--delay-percent P] [--abort STATUS]
                          [--abort-percent P] [--cluster C] [--class K] [--accounts a,b] [--header 'x-sluice-drill: on']
       sluice drill stop NAME
       sluice drill list
  common: [--admin HOST:PORT] (default $SLUICE_ADMIN or 127.0.0.1:9901) [--token-env NAME] (default SLUICE_ADMIN_TOKEN)`;

const COMMON = ['admin', 'token-env'];
const START = ['name', 'ttl', 'delay', 'delay-percent', 'abort', 'abort-percent', 'cluster', 'class', 'accounts', 'header', ...COMMON];

export async function drillCommand(args: readonly string[], output: CommandOutput = processOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runSubcommand(
    {
      command: 'sluice drill',
      usage: USAGE,
      actions: new Map([
        ['start', (rest: readonly string[]) => start(rest, output, env)],
        ['stop', (rest: readonly string[]) => stop(rest, output, env)],
        ['list', (rest: readonly string[]) => list(rest, output, env)],
      ]),
      refusal: (error) => [`sluice drill: ${error instanceof Error ? error.message : String(error)}`],
    },
    args,
    output,
  );
}

interface Target {
  readonly base: string;
  readonly headers: Record<string, string>;
}

function target(flags: Map<string, string[]>, env: NodeJS.ProcessEnv): Target {
  const admin = flags.get('admin')?.[0] ?? env.SLUICE_ADMIN ?? '127.0.0.1:9901';
  const token = env[flags.get('token-env')?.[0] ?? 'SLUICE_ADMIN_TOKEN'];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return { base: admin.includes('://') ? admin : `http://${admin}`, headers };
}

async function call(to: Target, method: string, path: string, body?: string): Promise<{ status: number; value: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${to.base}${path}`, { method, headers: to.headers, body, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new Error(`cannot reach the admin API at ${to.base}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = await res.text();
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: shown as is.
  }
  return { status: res.status, value };
}

function errorOf(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'error' in value) return String((value as { error: unknown }).error);
  return JSON.stringify(value);
}

async function start(args: readonly string[], output: CommandOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const { flags, positional } = parseFlags(args, START);
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const one = (name: string): string | undefined => flags.get(name)?.[0];
  const name = one('name');
  const ttl = one('ttl');
  if (name === undefined) throw new UsageError('--name is required');
  if (ttl === undefined) throw new UsageError('--ttl is required (a drill always ends by itself)');
  if (one('delay') === undefined && one('abort') === undefined) throw new UsageError('--delay or --abort is required');
  const number = (flag: string): number | undefined => {
    const text = one(flag);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new UsageError(`--${flag} must be a number`);
    return value;
  };
  const entry: Record<string, unknown> = {
    name,
    ttl,
    cluster: one('cluster'),
    class: one('class'),
    accounts: one('accounts')?.split(',').map((a) => a.trim()).filter((a) => a !== ''),
    header: one('header'),
    delay: one('delay'),
    delay_percent: number('delay-percent'),
    abort: number('abort'),
    abort_percent: number('abort-percent'),
  };
  for (const key of Object.keys(entry)) if (entry[key] === undefined) delete entry[key];
  const answer = await call(target(flags, env), 'POST', '/admin/faults', JSON.stringify(entry));
  if (answer.status !== 200) {
    output.err(`sluice drill: ${errorOf(answer.value)}`);
    return 1;
  }
  const view = answer.value as { name: string; until: string };
  output.out(`drill ${view.name} started, ends ${view.until}`);
  return 0;
}

async function stop(args: readonly string[], output: CommandOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const { flags, positional } = parseFlags(args, COMMON);
  if (positional.length !== 1) throw new UsageError('stop takes one drill name');
  const answer = await call(target(flags, env), 'DELETE', `/admin/faults/${encodeURIComponent(positional[0])}`);
  if (answer.status !== 200) {
    output.err(`sluice drill: ${errorOf(answer.value)}`);
    return 1;
  }
  output.out(`drill ${positional[0]} stopped`);
  return 0;
}

async function list(args: readonly string[], output: CommandOutput, env: NodeJS.ProcessEnv): Promise<number> {
  const { flags, positional } = parseFlags(args, COMMON);
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const answer = await call(target(flags, env), 'GET', '/admin/faults');
  if (answer.status !== 200) {
    output.err(`sluice drill: ${errorOf(answer.value)}`);
    return 1;
  }
  const faults = (answer.value as { faults: Record<string, unknown>[] }).faults;
  if (faults.length === 0) output.out('no drills');
  for (const f of faults) {
    const what = [f.delay_ms ? `delay ${String(f.delay_ms)}ms@${String(f.delay_percent)}%` : '', f.abort ? `abort ${String(f.abort)}@${String(f.abort_percent)}%` : '']
      .filter((s) => s !== '')
      .join(', ');
    const filters = ['cluster', 'class', 'header'].filter((k) => f[k] !== null).map((k) => `${k}=${String(f[k])}`);
    if (Array.isArray(f.accounts)) filters.push(`accounts=${f.accounts.join(',')}`);
    const left = f.time_left_ms === null ? 'no end' : `${Math.ceil(Number(f.time_left_ms) / 1000)}s left`;
    output.out(`${String(f.name)}  ${String(f.origin)}  ${what}  ${filters.join(' ') || 'all traffic'}  ${left}`);
  }
  return 0;
}
