// The Redis store, loaded only when the rules ask for one. ioredis and the store's module are
// imported on first use: a sidecar on the memory store never holds them (~8 MiB of RSS measured
// on an idle sidecar). The resilient store asks this one only after a probe succeeded, and a
// probe waits for the module, so no take ever reaches it before the real store exists.
import type { StoreRules } from '../rules/types.ts';
import type { SharedStore } from './resilient-store.ts';
import type { RedisStoreOptions } from './redis-store.ts';
import type { BucketSpec } from './store.ts';

export class DeferredSharedStore implements SharedStore {
  readonly kind: 'redis' | 'redis-cluster';
  private store: SharedStore | null = null;
  private readonly loading: Promise<SharedStore | null>;
  private closed = false;

  constructor(rules: StoreRules, options: RedisStoreOptions = {}) {
    if (rules.kind === 'memory') throw new TypeError('a shared store needs store kind redis or redis-cluster');
    this.kind = rules.kind;
    this.loading = import('./redis-store.ts').then(
      ({ RedisStore }) => {
        if (this.closed) return null;
        this.store = new RedisStore(rules, options);
        return this.store;
      },
      // A module that cannot load leaves the store down (probes answer false), never a crash.
      () => null,
    );
  }

  take(buckets: readonly BucketSpec[]): number | Promise<number> {
    // Only reached once a probe succeeded, which needs the store.
    if (this.store === null) return Promise.reject(new Error('shared store not loaded yet'));
    return this.store.take(buckets);
  }

  refund(buckets: readonly BucketSpec[]): Promise<unknown> {
    if (this.store === null) return this.loading.then((store) => store?.refund(buckets));
    return this.store.refund(buckets);
  }

  async probe(): Promise<boolean> {
    const store = this.store ?? (await this.loading);
    return store !== null && store.probe();
  }

  watchConnection(lost: () => void, ready: () => void): void {
    void this.loading.then((store) => store?.watchConnection(lost, ready));
  }

  async close(): Promise<void> {
    this.closed = true;
    const store = await this.loading;
    await store?.close();
  }
}
