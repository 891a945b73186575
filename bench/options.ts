// Bench settings from flags and BENCH_* environment variables (flags win); `--quick` for a smoke run.
import { parseArgs } from 'node:util';
import { variants } from './variants.ts';

export interface Options {
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly connections: number;
  readonly nodeFlags: readonly string[];
  readonly only: readonly string[] | null;
  readonly quick: boolean;
  /** Open-loop arrivals per second, seconds per open-loop run (0: no open loop), and its variants. */
  readonly openRate: number;
  readonly openDurationS: number;
  readonly openLoop: readonly string[];
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got '${text}'`);
  return value;
}

export function options(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      'node-flags': { type: 'string' },
      only: { type: 'string' },
      'open-rate': { type: 'string' },
      'open-duration': { type: 'string' },
      'open-loop': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help === true) {
    process.stdout.write('usage: node bench/run.ts [--quick] [--duration S] [--warmup S] [--rounds N] [--connections N]\n'
      + '                         [--node-flags=FLAGS] [--only direct,plain-proxy,...]\n'
      + '                         [--open-rate N] [--open-duration S] [--open-loop plain-proxy,sluice-guards,...]\n'
      + `variants: ${variants.map((v) => v.name).join(', ')}\n`
      + 'env: BENCH_DURATION BENCH_WARMUP BENCH_ROUNDS BENCH_CONNECTIONS BENCH_NODE_FLAGS BENCH_ONLY\n'
      + '     BENCH_OPEN_RATE BENCH_OPEN_DURATION BENCH_OPEN_LOOP\n');
    process.exit(0);
  }
  const env = process.env;
  const quick = values.quick === true;
  const pick = (flag: string | undefined, envName: string, normal: string, quickValue: string): string =>
    flag ?? env[envName] ?? (quick ? quickValue : normal);
  const only = values.only ?? env.BENCH_ONLY;
  const onlyList = only === undefined || only === '' ? null : only.split(',').map((s) => s.trim());
  for (const name of onlyList ?? []) {
    if (!variants.some((v) => v.name === name)) throw new Error(`unknown variant '${name}'`);
  }
  const openLoop = (values['open-loop'] ?? env.BENCH_OPEN_LOOP ?? 'plain-proxy,nginx,sluice-guards').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of openLoop) {
    if (!variants.some((v) => v.name === name)) throw new Error(`unknown open-loop variant '${name}'`);
  }
  const openDuration = Number(values['open-duration'] ?? env.BENCH_OPEN_DURATION ?? (quick ? '3' : '10'));
  if (!Number.isFinite(openDuration) || openDuration < 0) throw new Error('open-duration must be 0 or more seconds');
  const flags = values['node-flags'] ?? env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=16';
  return {
    durationS: positive('duration', pick(values.duration, 'BENCH_DURATION', '10', '3')),
    warmupS: positive('warmup', pick(values.warmup, 'BENCH_WARMUP', '10', '2')),
    rounds: Math.round(positive('rounds', pick(values.rounds, 'BENCH_ROUNDS', '3', '1'))),
    connections: Math.round(positive('connections', pick(values.connections, 'BENCH_CONNECTIONS', '50', '50'))),
    nodeFlags: flags.split(/\s+/).filter((f) => f !== ''),
    only: onlyList,
    quick,
    openRate: positive('open-rate', values['open-rate'] ?? env.BENCH_OPEN_RATE ?? '5000'),
    openDurationS: openDuration,
    openLoop,
  };
}

