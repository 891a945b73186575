// What the admin API shows, assembled from the running parts. Control path: allocation is fine.
import type { Registry } from 'prom-client';
import type { Ledger } from '../accounts/ledger.ts';
import type { UsageRegistry } from '../accounts/usage.ts';
import type { Policy } from '../policy.ts';
import type { RulesReloader } from '../rules/reloader.ts';
import type { CounterStore } from '../store/store.ts';
import type { SwitchState } from '../upstream/switch-state.ts';
import type { AdminSources } from './admin-server.ts';
import { listHotKeys } from '../guards/hot-key.ts';

export interface ViewDeps {
  readonly registry: Registry;
  readonly reloader: RulesReloader<Policy>;
  readonly usage: UsageRegistry;
  readonly ledger: Ledger;
  readonly switchState: SwitchState;
  readonly store: CounterStore;
  ready(): boolean;
  /** Applies a parsed switch (null clears); answers an error line or null. */
  applySwitch(map: ReadonlyMap<string, string> | null): string | null;
  parseSwitch(body: string): ReadonlyMap<string, string> | string;
}

export function adminViews(deps: ViewDeps): AdminSources {
  const { reloader, usage, switchState } = deps;
  return {
    registry: deps.registry,
    ready: deps.ready,
    rules() {
      const policy = reloader.current;
      return {
        version: policy?.version ?? null,
        loaded_at: policy?.loadedAt ?? null,
        files: policy?.files ?? [],
        last_error: reloader.lastError,
        store: { kind: deps.store.kind, up: deps.store.up },
        switch: {
          current: policy === null ? {} : Object.fromEntries(policy.switchMap),
          source: switchState.origin.source,
          instance: switchState.origin.instance,
          at: switchState.origin.at,
          warnings: policy?.warnings ?? [],
        },
      };
    },
    accounts(query) {
      const days = ledgerDays(query);
      const { ledger } = deps;
      return {
        ledger: { days, scope: ledger.fleet ? 'this sidecar (the fleet ledger is in the shared store)' : 'this sidecar' },
        accounts: usage.snapshot().map((a) => ({ ...a, ledger: ledger.summary(a.id, days) })),
        unregistered: ledger.unregisteredNames().map((id) => ({ id, ledger: ledger.summary(id, days, false) })),
        unregistered_overflow: usage.unregisteredOverflow,
      };
    },
    account(id, query) {
      const snapshot = usage.snapshotOf(id);
      return snapshot === null ? null : { ...snapshot, ledger: deps.ledger.summary(id, ledgerDays(query)) };
    },
    hotkeys() {
      const policy = reloader.current;
      return { rules: policy === null ? [] : listHotKeys(policy.guards) };
    },
    breakers() {
      return { breakers: reloader.current?.breakers.describe() ?? [] };
    },
    adaptive() {
      return { clusters: reloader.current?.adaptive?.describe() ?? [] };
    },
    clusters() {
      return { clusters: [...(reloader.current?.clusters.values() ?? [])].map((cluster) => cluster.describe()) };
    },
    mirrors() {
      return reloader.current?.mirrors?.describe() ?? { mirrors: [] };
    },
    postSwitch(body) {
      const parsed = deps.parseSwitch(body);
      if (typeof parsed === 'string') return parsed;
      return deps.applySwitch(parsed.size === 0 ? null : parsed);
    },
    clearSwitch() {
      deps.applySwitch(null);
    },
  };
}

/** `?days=N` (1 to 30; default 1, today). */
function ledgerDays(query: URLSearchParams): number {
  const n = Number(query.get('days') ?? 1);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 30) : 1;
}
