// Picks the counter store the rules ask for. Memory counts per instance; redis and redis-cluster
// share counters across the fleet, wrapped so that a Redis outage never fails a request, and
// loaded only then (ioredis is not imported by a sidecar on the memory store).
import { systemClock, type Clock } from '../clock.ts';
import type { StoreRules } from '../rules/types.ts';
import { MemoryStore } from './memory-store.ts';
import { DeferredSharedStore } from './deferred-shared-store.ts';
import { ResilientStore, type UpListener } from './resilient-store.ts';
import type { CounterStore } from './store.ts';

export interface StoreDeps {
  readonly clock?: Clock;
  /** Told each time the shared store goes down or comes back (drives sluice_store_up). */
  readonly onUpChange?: UpListener;
  /** Bound on one Redis command, ms (default 100). */
  readonly commandTimeoutMs?: number;
  /** How often a down store is probed, ms (default 500). */
  readonly probeIntervalMs?: number;
}

export function createStore(rules: StoreRules, deps: StoreDeps = {}): CounterStore {
  const clock = deps.clock ?? systemClock;
  if (rules.kind === 'memory') return new MemoryStore(clock);
  const store = new ResilientStore(new DeferredSharedStore(rules, { commandTimeoutMs: deps.commandTimeoutMs }), {
    onFailure: rules.onFailure,
    instances: rules.instances,
    clock,
    probeIntervalMs: deps.probeIntervalMs,
  });
  if (deps.onUpChange !== undefined) store.onUpChange(deps.onUpChange);
  return store;
}
