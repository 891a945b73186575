// What the admin API shows, assembled from the running parts. Control path: allocation is fine.
import type { Registry } from 'prom-client';
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
    accounts() {
      return { accounts: usage.snapshot() };
    },
    account(id) {
      return usage.snapshotOf(id);
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
