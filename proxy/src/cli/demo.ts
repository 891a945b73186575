// `sluice demo`: a newcomer's tour on one machine (stand-in member service, the sidecar with the
// example rules, mixed traffic, a live view). Ends by itself; Ctrl-C ends it early and cleanly.
import { runTour } from '../demo/tour.ts';
import { parseFlags, UsageError } from './usage-error.ts';

export async function demoCommand(args: readonly string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, ['duration-scale', 'rules'], [], ['no-color']);
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const scaleText = flags.get('duration-scale')?.[0] ?? '1';
  const scale = Number(scaleText);
  if (!Number.isFinite(scale) || scale < 0.05 || scale > 10) {
    throw new UsageError(`--duration-scale: expected a number from 0.05 to 10, got '${scaleText}'`);
  }
  const live = process.stdout.isTTY === true;
  const color = live && flags.get('no-color')?.[0] !== 'true' && !process.env.NO_COLOR;
  const abort = new AbortController();
  const interrupt = (): void => abort.abort();
  process.once('SIGINT', interrupt);
  // A reader that goes away (`sluice demo | head`) ends the tour instead of crashing it.
  process.stdout.on('error', interrupt);
  try {
    const { interrupted } = await runTour({ scale, color, live, out: process.stdout, width: Math.max(60, Math.min(process.stdout.columns ?? 100, 120)), signal: abort.signal, rulesSource: flags.get('rules')?.[0] });
    return interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', interrupt);
    process.stdout.off('error', interrupt);
  }
}
