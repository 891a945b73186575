// `sluice start`: runs the sidecar until SIGTERM/SIGINT, then drains (in-flight requests finish).
import { flushCompileCache } from 'node:module';
import { ACCESS_LOG_SAMPLE_ENV, parseAccessLogSample } from '../access-log.ts';
import { createLogger } from '../log.ts';
import { RulesRefusedError, Sidecar } from '../sidecar.ts';
import { parseFlags } from './usage-error.ts';

/** Longest wait for in-flight requests at shutdown; Kubernetes' default grace period is 30 s. */
export const DEFAULT_DRAIN_MS = 25_000;
const DRAIN_DEADLINE_MS = Number(process.env.SLUICE_DRAIN_MS ?? DEFAULT_DRAIN_MS);

export async function startCommand(args: readonly string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, ['rules', 'listen', 'admin', 'redis']);
  if (positional.length > 0) throw new (await import('./usage-error.ts')).UsageError(`unexpected argument '${positional[0]}'`);
  const flag = (name: string, env: string): string | undefined => flags.get(name)?.[0] ?? (process.env[env] || undefined);
  // Checked before anything starts: a typo here is a usage mistake, not a runtime surprise.
  parseAccessLogSample(process.env[ACCESS_LOG_SAMPLE_ENV]);
  const log = createLogger();
  let sidecar: Sidecar;
  try {
    sidecar = await Sidecar.start({
      rules: flag('rules', 'SLUICE_RULES') ?? 'rules/',
      listen: flag('listen', 'SLUICE_LISTEN'),
      admin: flag('admin', 'SLUICE_ADMIN'),
      redis: flag('redis', 'SLUICE_REDIS'),
      log,
    });
  } catch (error) {
    log.flush();
    if (error instanceof RulesRefusedError) {
      for (const problem of error.problems) process.stderr.write(`${problem}\n`);
      return 1;
    }
    throw error;
  }
  // Written now, not at exit: a sidecar that is killed still leaves its restart a warm cache.
  flushCompileCache();
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      log.info({ event: 'stopping', signal, in_flight: sidecar.server.activeRequests }, `${signal}: draining ${sidecar.server.activeRequests} in-flight request(s)`);
      sidecar.stop(DRAIN_DEADLINE_MS).then(resolve, resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  log.info({ event: 'stopped' }, 'stopped');
  log.flush();
  return 0;
}
