// Dispatches `sluice <command>`. Exit codes: 0 ok, 1 invalid input or rules, 2 usage error.
// Errors are one line; `--debug` adds the stack.
import { UsageError } from './usage-error.ts';

const USAGE = `usage: sluice <command> [options]

commands:
  start [--rules DIR_OR_FILE] [--listen HOST:PORT] [--admin HOST:PORT] [--redis URL]
                      run the sidecar
  validate [DIR_OR_FILE]
                      check rules files; one line per problem (file:line:col)
  accounts register --id ID --owner NAME --team TEAM --scenario TEXT --class CLASS --quota RATE
                    [--burst N] [--routes 'GET /members/*' ...] [--rules DIR_OR_FILE]
  accounts list [--rules DIR_OR_FILE]
  accounts rotate-key ID [--rules DIR_OR_FILE]
  accounts set-quota ID RATE [--rules DIR_OR_FILE]
  accounts report [--rules R] [--redis URL | --admin URL] [--days 7] [--json] [--suggest-quotas]
                      who really calls with each account, flags, quota suggestions
  drill start --name NAME --ttl DURATION [--delay D] [--abort STATUS] [--cluster C] ...
  drill stop NAME | drill list   [--admin HOST:PORT]
                      chaos drills on a running sidecar (admin token from $SLUICE_ADMIN_TOKEN)
  demo [--duration-scale F] [--no-color] [--rules DIR]
                      a guided tour on this machine; ends by itself
`;

export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'start':
        return await (await import('./start.ts')).startCommand(rest);
      case 'validate':
        return await (await import('./validate.ts')).validateCommand(rest);
      case 'accounts':
        return await (await import('./accounts.ts')).accountsCommand(rest);
      case 'demo':
        return await (await import('./demo.ts')).demoCommand(rest);
      case 'drill':
        return await (await import('./drill.ts')).drillCommand(rest);
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      case undefined:
        process.stderr.write(USAGE);
        return 2;
      default:
        process.stderr.write(`sluice: unknown command '${command}'\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`sluice ${command}: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sluice ${command}: ${message}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
