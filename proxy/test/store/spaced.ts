// Takes made in one turn of the event loop but spaced in time, as requests read in one turn
// arrive: the store must count each at its own time, not the whole batch at one instant.
import type { BucketSpec, CounterStore } from '../../src/store/store.ts';

/** Holds the thread for `ms` (a busy wait: the takes must stay in one event-loop turn). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** `count` takes on `store`, `gapMs` apart, all in one turn; answers every answer. */
export function spacedTakes(store: CounterStore, buckets: readonly BucketSpec[], count: number, gapMs: number): Promise<number[]> {
  const answers: (number | Promise<number>)[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) spin(gapMs);
    answers.push(store.take(buckets));
  }
  return Promise.all(answers);
}
