// Drives stores with a bounded tight loop of takes and counts what they admit.
import type { BucketSpec, CounterStore } from '../../src/store/store.ts';

export interface SaturationResult {
  admitted: number;
  /** Admitted without a promise: decided by the store at once (a lease spent locally, say). */
  admittedAtOnce: number;
  takes: number;
  /** Takes that answered something other than a number >= 0 or threw. */
  failures: number;
  elapsedMs: number;
}

/** Upper bound on takes per loop, whatever the speed of the machine. */
const MAX_TAKES_PER_LOOP = 500_000;

/**
 * Runs `loops` concurrent take loops on every store for `durationMs`. `onTake` sees each answer
 * (for tests that watch the store change mid-run).
 */
export async function saturate(
  stores: readonly CounterStore[],
  /** The buckets every take covers, or per store (two sidecars compile their own specs). */
  buckets: readonly BucketSpec[] | ((store: CounterStore) => readonly BucketSpec[]),
  durationMs: number,
  options: { loops?: number; onTake?: (store: CounterStore, answer: number) => void } = {},
): Promise<SaturationResult> {
  const result: SaturationResult = { admitted: 0, admittedAtOnce: 0, takes: 0, failures: 0, elapsedMs: 0 };
  const started = performance.now();
  const end = started + durationMs;
  const loop = async (store: CounterStore) => {
    const specs = typeof buckets === 'function' ? buckets(store) : buckets;
    for (let i = 0; i < MAX_TAKES_PER_LOOP && performance.now() < end; i++) {
      try {
        const pending = store.take(specs);
        // A synchronous answer still lets I/O in, as request arrivals would.
        if (typeof pending === 'number') await new Promise(setImmediate);
        const answer = await pending;
        result.takes++;
        if (answer === 0) {
          result.admitted++;
          if (typeof pending === 'number') result.admittedAtOnce++;
        } else if (!(answer > 0)) result.failures++;
        options.onTake?.(store, answer);
      } catch {
        result.failures++;
      }
    }
  };
  const loops: Promise<void>[] = [];
  for (const store of stores) for (let i = 0; i < (options.loops ?? 2); i++) loops.push(loop(store));
  await Promise.all(loops);
  result.elapsedMs = performance.now() - started;
  return result;
}

/** What a GCRA at `perSecond` with `burst` admits at most over `elapsedMs` of saturation. */
export function expectedAdmitted(perSecond: number, burst: number, elapsedMs: number): number {
  return (perSecond * elapsedMs) / 1000 + burst + 1;
}
