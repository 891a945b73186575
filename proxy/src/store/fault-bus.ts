// Fleet-wide admin drills (SPEC §11): a drill posted to or deleted from one sidecar reaches every
// sidecar through Redis pub/sub (channel `sluice:faults`), the way the switch does. Each message
// carries the whole set of admin drills, so the last one wins and nothing is lost to ordering; the
// set is also kept under a key (expiring with its last drill), so a sidecar that connects or
// reconnects mid-drill joins it. Every drill carries its own end: a sidecar cut off from Redis
// still ends it on time.
import { randomUUID } from 'node:crypto';
import type { AdminDrill } from '../faults/fault-state.ts';
import type { StoreRules } from '../rules/types.ts';
import { createRedisClient, type RedisClient } from './redis-client.ts';

export const FAULT_CHANNEL = 'sluice:faults';
const SET_KEY = 'sluice:{faults}:drills';

interface FaultMessage {
  readonly id: string;
  readonly origin: string;
  readonly at: number;
  readonly drills: readonly AdminDrill[];
}

export type FaultListener = (drills: readonly AdminDrill[], origin: string) => void;

export class FaultBus {
  readonly instanceId: string;
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;
  private listener: FaultListener | null = null;
  private lastId: string | null = null;
  private lastAt = 0;
  private closed = false;

  constructor(rules: StoreRules, options: { instanceId: string; timeoutMs?: number }) {
    this.instanceId = options.instanceId;
    const timeout = options.timeoutMs ?? 1000;
    this.publisher = createRedisClient(rules, { commandTimeoutMs: timeout, connectionName: 'sluice-faults-pub' });
    this.subscriber = createRedisClient(rules, { commandTimeoutMs: timeout, offlineQueue: true, connectionName: 'sluice-faults-sub' });
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === FAULT_CHANNEL) this.receive(parse(text), false);
    });
    this.subscriber.on('ready', () => void this.catchUp());
    this.subscriber.subscribe(FAULT_CHANNEL).catch(() => {});
  }

  /** Broadcasts this sidecar's set of admin drills. Rejects when Redis cannot take it. */
  async publish(drills: readonly AdminDrill[]): Promise<void> {
    const message: FaultMessage = { id: randomUUID(), origin: this.instanceId, at: Date.now(), drills };
    this.lastId = message.id;
    this.lastAt = Math.max(this.lastAt, message.at);
    const text = JSON.stringify(message);
    const lastEnd = Math.max(0, ...drills.map((drill) => drill.fault.until ?? 0));
    const ttlMs = lastEnd - Date.now();
    if (ttlMs > 0) await this.publisher.set(SET_KEY, text, 'PX', Math.ceil(ttlMs));
    else await this.publisher.del(SET_KEY);
    await this.publisher.publish(FAULT_CHANNEL, text);
  }

  subscribe(listener: FaultListener): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listener = null;
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }

  private async catchUp(): Promise<void> {
    try {
      this.receive(parse(await this.publisher.get(SET_KEY)), true);
    } catch {
      // Redis went away again; the next 'ready' retries.
    }
  }

  /** Live messages are the newest by nature; the kept set only when newer than any seen. */
  private receive(message: FaultMessage | null, catchingUp: boolean): void {
    if (message === null || this.closed || message.id === this.lastId) return;
    if (catchingUp && message.at <= this.lastAt) return;
    this.lastId = message.id;
    this.lastAt = Math.max(this.lastAt, message.at);
    if (message.origin === this.instanceId) return;
    this.listener?.(message.drills, message.origin);
  }
}

function parse(text: string | null): FaultMessage | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<FaultMessage>;
    if (typeof value.id !== 'string' || typeof value.origin !== 'string' || typeof value.at !== 'number') return null;
    if (!Array.isArray(value.drills)) return null;
    const drills = value.drills.filter((drill) => typeof drill?.fault?.name === 'string' && typeof drill.fault.until === 'number');
    return { id: value.id, origin: value.origin, at: value.at, drills };
  } catch {
    return null;
  }
}

async function quit(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
