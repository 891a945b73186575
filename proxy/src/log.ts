// Structured JSON logs for control-path events only (rules loaded or refused, breaker transitions,
// store up/down, switch changes, lifecycle). Nothing is logged per request unless the sampled
// access log is turned on (access-log.ts, SLUICE_ACCESS_LOG_SAMPLE).
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  return pino(
    { level: options.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info', base: { service: 'sluice' } },
    pino.destination({ dest: options.destination ?? 1, sync: false }),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
