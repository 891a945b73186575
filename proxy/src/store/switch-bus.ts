// Fleet-wide emergency switch: POST /admin/switch on one sidecar reaches every sidecar through
// Redis pub/sub (channel `sluice:switch`). The last switch is also kept under a key, so a sidecar
// whose subscriber connection was away when a switch was published picks it up on reconnect.
// A sidecar that starts later keeps the switch of its rules files: an old emergency switch is not
// replayed onto new instances.
import { randomUUID } from 'node:crypto';
import type { StoreRules } from '../rules/types.ts';
import { createRedisClient, type RedisClient } from './redis-client.ts';

export const SWITCH_CHANNEL = 'sluice:switch';
const LAST_KEY = 'sluice:{switch}:last';
/** The last switch is kept a day: long enough for any reconnect, short enough not to linger. */
const LAST_TTL_SECONDS = 86_400;

/** Cluster name → cluster it is re-pointed to. */
export type SwitchMap = Readonly<Record<string, string>>;
export type SwitchListener = (switchMap: SwitchMap, origin: string) => void;

interface SwitchMessage {
  readonly id: string;
  readonly origin: string;
  /** Publisher's wall clock, ms: on catch-up, only a switch newer than the last one seen counts. */
  readonly at: number;
  readonly switch: SwitchMap;
}

export interface SwitchBusOptions {
  /** This sidecar's id: its own messages are not delivered back to it. */
  readonly instanceId: string;
  /** Bound on a publish, ms (default 1000). */
  readonly timeoutMs?: number;
}

export class SwitchBus {
  readonly instanceId: string;
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly listeners = new Set<SwitchListener>();
  /** Id of the last message seen (delivered, sent, or found at first connect). */
  private lastId: string | null = null;
  private lastAt = 0;
  private connectedOnce = false;
  private closed = false;

  constructor(rules: StoreRules, options: SwitchBusOptions) {
    this.instanceId = options.instanceId;
    const timeout = options.timeoutMs ?? 1000;
    this.publisher = createRedisClient(rules, { commandTimeoutMs: timeout, connectionName: 'sluice-switch-pub' });
    this.subscriber = createRedisClient(rules, {
      commandTimeoutMs: timeout,
      offlineQueue: true,
      connectionName: 'sluice-switch-sub',
    });
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === SWITCH_CHANNEL) this.receive(parse(text), false);
    });
    // ioredis resubscribes by itself after a reconnect; catch up on what was missed meanwhile.
    this.subscriber.on('ready', () => void this.catchUp());
    this.subscriber.subscribe(SWITCH_CHANNEL).catch(ignore);
  }

  /** Broadcast a switch to every other sidecar. Rejects when Redis cannot take it. */
  async publish(switchMap: SwitchMap): Promise<void> {
    const message: SwitchMessage = {
      id: randomUUID(),
      origin: this.instanceId,
      at: Date.now(),
      switch: { ...switchMap },
    };
    const text = JSON.stringify(message);
    this.seen(message);
    await this.publisher.set(LAST_KEY, text, 'EX', LAST_TTL_SECONDS);
    await this.publisher.publish(SWITCH_CHANNEL, text);
  }

  /** Calls `listener` for each switch published by another sidecar; answers an unsubscribe. */
  subscribe(listener: SwitchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }

  private async catchUp(): Promise<void> {
    const first = !this.connectedOnce;
    this.connectedOnce = true;
    let last: SwitchMessage | null = null;
    try {
      last = parse(await this.publisher.get(LAST_KEY));
    } catch {
      return; // Redis went away again; the next 'ready' retries.
    }
    if (last === null) return;
    if (first && this.lastId === null) {
      this.seen(last);
      return;
    }
    this.receive(last, true);
  }

  /** Live messages are the newest by nature; a caught-up one only when newer than any seen. */
  private receive(message: SwitchMessage | null, catchingUp: boolean): void {
    if (message === null || this.closed || message.id === this.lastId) return;
    if (catchingUp && message.at <= this.lastAt) return;
    this.seen(message);
    if (message.origin === this.instanceId) return;
    for (const listener of this.listeners) listener(message.switch, message.origin);
  }

  private seen(message: SwitchMessage): void {
    this.lastId = message.id;
    if (message.at > this.lastAt) this.lastAt = message.at;
  }
}

function parse(text: string | null): SwitchMessage | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const { id, origin, at, switch: map } = value as Record<string, unknown>;
    if (typeof id !== 'string' || typeof origin !== 'string' || typeof at !== 'number') return null;
    if (typeof map !== 'object' || map === null) return null;
    const entries = Object.entries(map);
    if (!entries.every(([, to]) => typeof to === 'string')) return null;
    return { id, origin, at, switch: Object.fromEntries(entries) as Record<string, string> };
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

function ignore(): void {}
