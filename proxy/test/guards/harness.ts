// A limit pipeline over a manual clock and a memory store, with helpers to drive requests
// through it and read metric values.
import assert from 'node:assert/strict';
import { UsageRegistry } from '../../src/accounts/usage.ts';
import { ManualClock } from '../../src/clock.ts';
import type { Guard, RequestContext, Verdict } from '../../src/guards/guard.ts';
import { buildLimitGuards, runGuards } from '../../src/guards/pipeline.ts';
import { Metrics } from '../../src/metrics.ts';
import type { Rules } from '../../src/rules/types.ts';
import { StateRegistry } from '../../src/state-registry.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import type { CounterStore } from '../../src/store/store.ts';
import { fakeContext, type FakeRequest } from '../helpers/fake-context.ts';

export class Harness {
  readonly clock = new ManualClock(10_000);
  readonly metrics = new Metrics({ defaultMetrics: false });
  readonly registry = new StateRegistry();
  readonly usage = new UsageRegistry(this.clock);
  readonly store: CounterStore;
  guards: Guard[];

  constructor(rules: Rules, store?: CounterStore) {
    this.store = store ?? new MemoryStore(this.clock);
    this.guards = buildLimitGuards(rules, this.deps());
  }

  deps() {
    return { store: this.store, clock: this.clock, metrics: this.metrics, registry: this.registry, usage: this.usage };
  }

  /** Rebuilds the pipeline as a rules reload does. */
  reload(rules: Rules): void {
    this.registry.begin();
    this.guards = buildLimitGuards(rules, this.deps());
    this.registry.commit();
  }

  /** One request through the pipeline, which must answer synchronously. */
  call(request: FakeRequest): { ctx: RequestContext; verdict: Verdict } {
    const ctx = fakeContext(request, this.clock.now());
    const verdict = runGuards(this.guards, ctx);
    assert.ok(!(verdict instanceof Promise), 'the memory pipeline answers synchronously');
    return { ctx, verdict };
  }

  /** Offers `request` every `stepMs` for `durationMs`; counts admissions and refusals by reason. */
  offer(request: FakeRequest, stepMs: number, durationMs: number): { admitted: number; refused: Map<string, number> } {
    const refused = new Map<string, number>();
    let admitted = 0;
    const end = this.clock.now() + durationMs;
    for (; this.clock.now() < end; this.clock.advance(stepMs)) {
      const { verdict } = this.call(request);
      if (verdict === null) admitted++;
      else refused.set(verdict.reason, (refused.get(verdict.reason) ?? 0) + 1);
    }
    return { admitted, refused };
  }

  close(): void {
    // Dispose of every piece of state (timers included).
    this.registry.begin();
    this.registry.commit();
  }
}

/** Anything that exposes values the way prom-client metrics do. */
interface Readable {
  get(): Promise<{ values: readonly { value: number; labels: Readonly<Record<string, string | number | undefined>> }[] }>;
}

export async function metricValue(metric: Readable, labels: Record<string, string>): Promise<number> {
  const data = await metric.get();
  const found = data.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return found?.value ?? 0;
}
