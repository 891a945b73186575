// Keeps limits enforced while the shared store is away. Shared enforcement while Redis answers;
// on the first failure (a command error or timeout, or the connection dropping) the store is
// marked down and every take is answered here, by local per-instance buckets (on_failure: local)
// or with STORE_UNAVAILABLE (on_failure: reject). While down, Redis is probed every
// `probeIntervalMs` and on every reconnect; the first good probe brings shared enforcement back.
// No take ever rejects or throws because of the store.
import { systemClock, type Clock } from '../clock.ts';
import { LocalBuckets } from './local-buckets.ts';
import type { BucketSpec, CounterStore } from './store.ts';

/**
 * `take` answer under on_failure: reject while the shared store is down. Negative, so it is told
 * apart from 0 (admitted) and from a retry time (> 0): the guard answers 503 store_unavailable.
 */
export const STORE_UNAVAILABLE = -1;

/** The shared store as the resilient store drives it (RedisStore satisfies it). */
export interface SharedStore {
  readonly kind: CounterStore['kind'];
  take(buckets: readonly BucketSpec[]): number | Promise<number>;
  refund(buckets: readonly BucketSpec[]): Promise<unknown>;
  probe(): Promise<boolean>;
  watchConnection(lost: () => void, ready: () => void): void;
  close(): Promise<void>;
}

export interface ResilientStoreOptions {
  readonly onFailure: 'local' | 'reject';
  /** Fleet size: local buckets get rate / instances. */
  readonly instances: number;
  readonly clock?: Clock;
  /** How often a down store is probed, ms (default 500). */
  readonly probeIntervalMs?: number;
}

export type UpListener = (up: boolean) => void;

export class ResilientStore implements CounterStore {
  readonly kind: CounterStore['kind'];
  private readonly shared: SharedStore;
  private readonly local: LocalBuckets | null;
  private readonly clock: Clock;
  private readonly probeIntervalMs: number;
  private readonly listeners = new Set<UpListener>();
  private isUp = false;
  private closed = false;
  private probing = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private readonly onSharedError: () => void;

  constructor(shared: SharedStore, options: ResilientStoreOptions) {
    this.kind = shared.kind;
    this.shared = shared;
    this.clock = options.clock ?? systemClock;
    this.local = options.onFailure === 'local' ? new LocalBuckets(this.clock, options.instances) : null;
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    this.onSharedError = () => this.markDown();
    // Down until Redis first answers; takes meanwhile are decided locally.
    shared.watchConnection(
      () => this.markDown(),
      () => void this.probeNow(),
    );
    this.startProbing();
  }

  /** True while takes are decided by the shared store. */
  get up(): boolean {
    return this.isUp;
  }

  take(buckets: readonly BucketSpec[], arrivedAt?: number): number | Promise<number> {
    if (!this.isUp) return this.fallback(buckets, arrivedAt);
    const answer = this.shared.take(buckets);
    if (typeof answer === 'number') return answer;
    // A take Redis failed is decided locally at its own arrival time, not when the failure came:
    // the takes of a failed batch must not land in one instant.
    const at = arrivedAt ?? this.clock.now();
    return answer.catch(() => {
      this.markDown();
      return this.fallback(buckets, at);
    });
  }

  give(buckets: readonly BucketSpec[]): void {
    if (!this.isUp) {
      this.local?.give(buckets);
      return;
    }
    this.shared.refund(buckets).catch(this.onSharedError);
  }

  /** Calls `listener` with each change of `up`; answers a function that removes it. */
  onUpChange(listener: UpListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopProbing();
    this.listeners.clear();
    await this.shared.close();
  }

  private fallback(buckets: readonly BucketSpec[], at?: number): number {
    return this.local === null ? STORE_UNAVAILABLE : this.local.take(buckets, at);
  }

  private markDown(): void {
    if (this.closed) return;
    this.startProbing();
    if (!this.isUp) return;
    this.isUp = false;
    this.emit(false);
  }

  private markUp(): void {
    if (this.closed || this.isUp) return;
    this.stopProbing();
    this.isUp = true;
    this.emit(true);
  }

  private emit(up: boolean): void {
    for (const listener of this.listeners) listener(up);
  }

  private startProbing(): void {
    if (this.probeTimer !== null || this.closed) return;
    this.probeTimer = setInterval(() => void this.probeNow(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  private stopProbing(): void {
    if (this.probeTimer === null) return;
    clearInterval(this.probeTimer);
    this.probeTimer = null;
  }

  private async probeNow(): Promise<void> {
    if (this.probing || this.isUp || this.closed) return;
    this.probing = true;
    try {
      if (await this.shared.probe()) this.markUp();
    } finally {
      this.probing = false;
    }
  }
}
