// Shared counters in Redis or Redis Cluster: GCRA in a Lua script on the Redis server's clock,
// atomic per take. Takes made in the same turn of the event loop go out as one script call per
// hash-tag group (every group at once on a single Redis), so Redis sees one command for many
// requests; each take carries its age at sending, so it counts at its own arrival time. A take
// Redis just refused is refused locally until room should appear, so a saturated limit costs
// about one round trip per admission, not per request. A busy bucket list is leased
// (store/lease.ts): its next slots are reserved in the same batches and spent here, synchronously,
// so most of its takes cost neither a round trip nor a promise. Answers reject
// when Redis cannot answer in time; the resilient store turns those into local decisions.
import { Cluster } from 'ioredis';
import { CLOSED_RETRY_MS, gcraClosed } from '../limits/gcra.ts';
import type { StoreRules } from '../rules/types.ts';
import { coversAllSlots } from './cluster-coverage.ts';
import { GIVE_LUA, TAKE_BATCH_LUA } from './gcra-lua.ts';
import { createRedisClient, type RedisClient } from './redis-client.ts';
import { bucketLeases, LEASE_RATE_WINDOW_MS, spendLeased, type BucketLease } from './lease.ts';
import { hashTag, redisKey } from './redis-keys.ts';
import type { BucketSpec, CounterStore } from './store.ts';

/** Most buckets one take may cover. */
export const MAX_BUCKETS_PER_TAKE = 4;

/**
 * Bound on one command. Long enough that an event-loop stall of the sidecar itself (the timer
 * fires before the waiting reply is read) rarely passes for a slow Redis, short enough that a
 * slow Redis costs a request little, once, before the store is marked down.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 100;

/** Most takes in one script call: keeps each script short, so Redis never stalls on one. */
const MAX_BATCH = 256;

type BatchScript = (args: readonly (string | number)[]) => Promise<number[]>;
type GiveScript = (args: readonly string[]) => Promise<unknown>;

/** Per bucket list, built once: its keys, script arguments, and what Redis last refused. */
class PreparedCall {
  /** Batch group: the hash tag on a cluster, one group for a single Redis. */
  readonly group: string;
  readonly keys: readonly string[];
  /** (interval, tolerance) per bucket. */
  readonly pairs: readonly string[];
  /** Answer when no Redis is needed (no buckets, or a closed bucket); -1 otherwise. */
  readonly fixed: number;
  readonly give: GiveScript | null;
  /** Keys, then (interval, tolerance) per bucket. */
  readonly giveArgs: readonly string[];
  /**
   * Local time (ms) before which Redis would refuse this take anyway: until then it is refused
   * here without a round trip. Only ever refuses, never admits, so the shared limit stays exact.
   */
  blockedUntil = 0;
  /** One lease per bucket, or null when the buckets are too tight to lease (taken one by one). */
  readonly leases: readonly BucketLease[] | null;
  /** Admissions per ms over the last full rate window: what a lease is sized to. */
  private ratePerMs = 0;
  private admitsInWindow = 0;
  private windowStart = 0;

  constructor(group: string, keys: readonly string[], pairs: readonly string[], fixed: number, give: GiveScript | null, leases: BucketLease[] | null) {
    this.group = group;
    this.keys = keys;
    this.pairs = pairs;
    this.fixed = fixed;
    this.give = give;
    this.giveArgs = keys.concat(pairs);
    this.leases = leases;
  }

  admitted(now: number): void {
    this.admitsInWindow++;
    if (now - this.windowStart >= LEASE_RATE_WINDOW_MS) this.closeWindow(now);
  }

  /** Admissions per ms, as last measured. */
  rate(now: number): number {
    if (now - this.windowStart >= LEASE_RATE_WINDOW_MS) this.closeWindow(now);
    return this.ratePerMs;
  }

  private closeWindow(now: number): void {
    this.ratePerMs = this.admitsInWindow / (now - this.windowStart);
    this.admitsInWindow = 0;
    this.windowStart = now;
  }
}

/** One take waiting in a batch. */
interface Waiter {
  readonly call: PreparedCall;
  /** performance.now() when the take was made: the request's arrival. */
  readonly sent: number;
  resolve(answer: number): void;
  reject(error: unknown): void;
}

/** Takes and lease requests of one group gathered during a turn of the event loop. */
class Batch {
  readonly waiters: Waiter[] = [];
  readonly leases: BucketLease[] = [];
}

export interface RedisStoreOptions {
  /** Bound on one Redis command, ms (default 100). */
  readonly commandTimeoutMs?: number;
}

export class RedisStore implements CounterStore {
  readonly kind: 'redis' | 'redis-cluster';
  readonly client: RedisClient;
  private readonly prepared = new WeakMap<readonly BucketSpec[], PreparedCall>();
  private readonly takeBatch: BatchScript;
  private readonly giveScripts: GiveScript[] = [];
  private readonly batches = new Map<string, Batch>();
  private flushScheduled = false;
  /** Smoothed time from a batch's sending to its answer, ms: how early leases are renewed. */
  private roundTripMs = 1;
  private readonly flush = (): void => this.flushAll();

  constructor(rules: StoreRules, options: RedisStoreOptions = {}) {
    if (rules.kind === 'memory') throw new TypeError('RedisStore needs store kind redis or redis-cluster');
    this.kind = rules.kind;
    const scripts: Record<string, { lua: string; numberOfKeys?: number }> = {
      // The key count comes first in its arguments; batches are their own pipeline.
      sluiceTakeBatch: { lua: TAKE_BATCH_LUA },
    };
    for (let n = 1; n <= MAX_BUCKETS_PER_TAKE; n++) {
      scripts[`sluiceGive${n}`] = { lua: GIVE_LUA, numberOfKeys: n };
    }
    this.client = createRedisClient(rules, {
      commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      scripts,
      notAutoPipelined: ['sluiceTakeBatch'],
      connectionName: 'sluice-counters',
    });
    type Command = (args: readonly (string | number)[]) => Promise<unknown>;
    const commands = this.client as unknown as Record<string, Command>;
    const batch = commands.sluiceTakeBatch;
    this.takeBatch = (args) => batch.call(this.client, args) as Promise<number[]>;
    for (let n = 1; n <= MAX_BUCKETS_PER_TAKE; n++) {
      const give = commands[`sluiceGive${n}`];
      this.giveScripts[n] = (args) => give.call(this.client, args);
    }
  }

  /** True while the connection is ready; the resilient store keeps the finer judgement. */
  get up(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * 0 or the ms until a retry could succeed. Synchronous when known without Redis (a take Redis
   * just refused, a closed bucket); else a promise that rejects when Redis does not answer in time.
   */
  take(buckets: readonly BucketSpec[]): number | Promise<number> {
    const call = this.prepare(buckets);
    if (call.fixed >= 0) return call.fixed;
    const sent = performance.now();
    const leases = call.leases;
    // A leased unit admits even while Redis refuses takes one by one: its slot is already ours.
    if (leases !== null && spendLeased(leases, sent)) {
      call.admitted(sent);
      this.renewLeases(call, leases, sent);
      return 0;
    }
    if (call.blockedUntil > sent) return call.blockedUntil - sent;
    // The take goes to Redis; the next lease goes with it when this list is busy enough.
    if (leases !== null) this.renewLeases(call, leases, sent);
    return new Promise<number>((resolve, reject) => this.enqueue({ call, sent, resolve, reject }));
  }

  /** Refund, reporting failure to the caller (the resilient store marks the store down). */
  refund(buckets: readonly BucketSpec[]): Promise<unknown> {
    const call = this.prepare(buckets);
    if (call.give === null) return Promise.resolve(0);
    call.blockedUntil = 0;
    return call.give(call.giveArgs);
  }

  give(buckets: readonly BucketSpec[]): void {
    this.refund(buckets).catch(ignore);
  }

  /** Whether Redis answers now: PING, and on a cluster every master plus a healthy cluster state. */
  async probe(): Promise<boolean> {
    try {
      if (this.client instanceof Cluster) {
        const masters = this.client.nodes('master');
        if (masters.length === 0) return false;
        if (!coversAllSlots(this.client)) {
          // Learn the new map (a replica promoted in the meantime); the next probe sees it.
          this.client.refreshSlotsCache();
          return false;
        }
        const [info] = await Promise.all([masters[0].cluster('INFO'), ...masters.map((m) => m.ping())]);
        return String(info).includes('cluster_state:ok');
      }
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Calls `lost` when the connection drops and `ready` when it is back. */
  watchConnection(lost: () => void, ready: () => void): void {
    this.client.on('close', lost);
    this.client.on('end', lost);
    this.client.on('ready', ready);
  }

  async close(): Promise<void> {
    this.flushAll();
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private prepare(buckets: readonly BucketSpec[]): PreparedCall {
    let call = this.prepared.get(buckets);
    if (call === undefined) {
      call = prepareCall(buckets, this.kind === 'redis-cluster', this.giveScripts);
      this.prepared.set(buckets, call);
    }
    return call;
  }

  /** Asks, in the next batch, for the next lease of each bucket running low (BucketLease.due). */
  private renewLeases(call: PreparedCall, leases: readonly BucketLease[], now: number): void {
    const rate = call.rate(now);
    for (let i = 0; i < leases.length; i++) {
      const lease = leases[i];
      const want = lease.due(now, rate, this.roundTripMs);
      if (want === 0) continue;
      lease.asked = want;
      this.batchOf(call.group).leases.push(lease);
      this.scheduleFlush();
    }
  }

  private batchOf(group: string): Batch {
    let batch = this.batches.get(group);
    if (batch === undefined) {
      batch = new Batch();
      this.batches.set(group, batch);
    }
    return batch;
  }

  private enqueue(waiter: Waiter): void {
    const group = waiter.call.group;
    const batch = this.batchOf(group);
    batch.waiters.push(waiter);
    if (batch.waiters.length >= MAX_BATCH) {
      this.batches.delete(group);
      this.send(batch);
    } else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the I/O already queued in this turn, so its requests join the batch.
    setImmediate(this.flush);
  }

  private flushAll(): void {
    this.flushScheduled = false;
    for (const batch of this.batches.values()) this.send(batch);
    this.batches.clear();
  }

  private send(batch: Batch): void {
    const waiters = batch.waiters;
    const leases = batch.leases;
    const sentAt = performance.now();
    // Each distinct bucket and bucket list once (see TAKE_BATCH_LUA), then per take its list and age.
    const keyIndex = new Map<string, number>();
    const keys: string[] = [];
    const lists = new Map<PreparedCall, number>();
    const listArgs: (string | number)[] = [];
    const takeArgs: (string | number)[] = [waiters.length];
    for (let w = 0; w < waiters.length; w++) {
      const { call, sent } = waiters[w];
      let list = lists.get(call);
      if (list === undefined) {
        list = lists.size + 1;
        lists.set(call, list);
        listArgs.push(call.keys.length);
        for (let i = 0; i < call.keys.length; i++) {
          let k = keyIndex.get(call.keys[i]);
          if (k === undefined) {
            k = keys.push(call.keys[i]);
            keyIndex.set(call.keys[i], k);
          }
          listArgs.push(k, call.pairs[2 * i], call.pairs[2 * i + 1]);
        }
      }
      takeArgs.push(list, Math.round((sentAt - sent) * 1000) / 1000);
    }
    takeArgs.push(leases.length);
    for (let l = 0; l < leases.length; l++) {
      const lease = leases[l];
      let k = keyIndex.get(lease.key);
      if (k === undefined) {
        k = keys.push(lease.key);
        keyIndex.set(lease.key, k);
      }
      takeArgs.push(k, lease.intervalArg, lease.toleranceArg, lease.asked, lease.lifetimeArg);
    }
    const args: (string | number)[] = [keys.length, ...keys, lists.size, ...listArgs, ...takeArgs];
    this.takeBatch(args).then(
      (answers) => {
        const tripMs = performance.now() - sentAt;
        this.roundTripMs += (tripMs - this.roundTripMs) / 8;
        const takes = waiters.length;
        for (let l = 0; l < leases.length; l++) {
          const granted = answers[takes + 2 * l];
          leases[l].asked = 0;
          if (granted > 0) leases[l].grant(sentAt, answers[takes + 2 * l + 1] / 1000, granted);
        }
        for (let i = 0; i < takes; i++) settle(waiters[i], answers[i]);
      },
      (error: unknown) => {
        for (let l = 0; l < leases.length; l++) leases[l].asked = 0;
        for (let i = 0; i < waiters.length; i++) waiters[i].reject(error);
      },
    );
  }
}

function settle(waiter: Waiter, micros: number): void {
  if (micros === 0) {
    waiter.call.admitted(waiter.sent);
    waiter.resolve(0);
    return;
  }
  // Redis judged the take at its arrival plus the trip to Redis (its age is subtracted, the
  // trip is not), and answered the wait from there: a take made `wait` after this one is judged
  // exactly when room appears. Until then takes are refused here, without a round trip.
  const wait = micros / 1000;
  const call = waiter.call;
  const until = waiter.sent + wait;
  if (until > call.blockedUntil) call.blockedUntil = until;
  waiter.resolve(wait);
}

function prepareCall(buckets: readonly BucketSpec[], cluster: boolean, gives: GiveScript[]): PreparedCall {
  const n = buckets.length;
  if (n === 0) return new PreparedCall('', [], [], 0, null, null);
  if (n > MAX_BUCKETS_PER_TAKE) {
    throw new RangeError(`one take covers at most ${MAX_BUCKETS_PER_TAKE} buckets, got ${n}`);
  }
  const tag = hashTag(redisKey(buckets[0].key)) ?? '';
  const keys: string[] = [];
  const pairs: string[] = [];
  let closed = false;
  for (const bucket of buckets) {
    const key = redisKey(bucket.key);
    if (hashTag(key) !== tag) {
      throw new RangeError(`buckets taken together must share a hash tag: ${buckets.map((b) => b.key).join(', ')}`);
    }
    if (gcraClosed(bucket)) closed = true;
    keys.push(key);
    pairs.push(String(bucket.interval), String(bucket.tolerance));
  }
  // A bucket at rate 0 admits nothing: answer without asking Redis.
  if (closed) return new PreparedCall('', [], [], CLOSED_RETRY_MS, null, null);
  const leases = bucketLeases(keys, buckets);
  // A script touches one cluster slot: on a cluster, batch by hash tag; a single Redis takes all.
  return new PreparedCall(cluster ? tag : '', keys, pairs, -1, gives[n], leases);
}

function ignore(): void {}
