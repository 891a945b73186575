// The Redis pub/sub plumbing shared by the fleet-wide switch and drills: a publisher and a
// subscriber connection, the last message kept under a key so a sidecar whose subscriber was
// away catches up on reconnect, and the rule that decides which message counts (each is seen
// once; a caught-up one only when newer than any seen; a sidecar's own messages are not
// delivered back to it).
import type { StoreRules } from '../rules/types.ts';
import { createRedisClient, type RedisClient } from './redis-client.ts';

/** What every broadcast message carries besides its payload. */
export interface BusMessage {
  readonly id: string;
  readonly origin: string;
  /** Publisher's wall clock, ms: on catch-up, only a message newer than the last one seen counts. */
  readonly at: number;
}

export interface BroadcastBusOptions<M extends BusMessage> {
  readonly channel: string;
  /** Key under which the last message is kept. */
  readonly key: string;
  /** Names the connections `sluice-<name>-pub` and `sluice-<name>-sub`. */
  readonly name: string;
  /** This sidecar's id: its own messages are not delivered back to it. */
  readonly instanceId: string;
  /** Bound on a command, ms (default 1000). */
  readonly timeoutMs?: number;
  /** On the very first connect, deliver the kept message (true) or only note it as seen (false). */
  readonly replayOnFirstConnect: boolean;
  /** The payload of a message whose header is valid, or null when it is not one. */
  readonly parse: (value: Readonly<Record<string, unknown>>, header: BusMessage) => M | null;
  /** Hands a message from another sidecar to the listeners. */
  readonly deliver: (message: M) => void;
}

export class BroadcastBus<M extends BusMessage> {
  private readonly options: BroadcastBusOptions<M>;
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;
  /** Id of the last message seen (delivered, sent, or found at first connect). */
  private lastId: string | null = null;
  private lastAt = 0;
  private connectedOnce = false;
  private closed = false;

  constructor(rules: StoreRules, options: BroadcastBusOptions<M>) {
    this.options = options;
    const timeout = options.timeoutMs ?? 1000;
    this.publisher = createRedisClient(rules, { commandTimeoutMs: timeout, connectionName: `sluice-${options.name}-pub` });
    this.subscriber = createRedisClient(rules, {
      commandTimeoutMs: timeout,
      offlineQueue: true,
      connectionName: `sluice-${options.name}-sub`,
    });
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === options.channel) this.receive(this.parse(text), false);
    });
    // ioredis resubscribes by itself after a reconnect; catch up on what was missed meanwhile.
    this.subscriber.on('ready', () => void this.catchUp());
    this.subscriber.subscribe(options.channel).catch(ignore);
  }

  /**
   * Keeps `message` for `keepMs` (or drops the kept one when keepMs <= 0), then broadcasts it.
   * Rejects when Redis cannot take it.
   */
  async publish(message: M, keepMs: number): Promise<void> {
    const text = JSON.stringify(message);
    this.seen(message);
    if (keepMs > 0) await this.publisher.set(this.options.key, text, 'PX', Math.ceil(keepMs));
    else await this.publisher.del(this.options.key);
    await this.publisher.publish(this.options.channel, text);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }

  private async catchUp(): Promise<void> {
    const first = !this.connectedOnce;
    this.connectedOnce = true;
    try {
      const last = this.parse(await this.publisher.get(this.options.key));
      if (last === null) return;
      if (first && this.lastId === null && !this.options.replayOnFirstConnect) {
        this.seen(last);
        return;
      }
      this.receive(last, true);
    } catch {
      // Redis went away again; the next 'ready' retries.
    }
  }

  /** Live messages are the newest by nature; a caught-up one only when newer than any seen. */
  private receive(message: M | null, catchingUp: boolean): void {
    if (message === null || this.closed || message.id === this.lastId) return;
    if (catchingUp && message.at <= this.lastAt) return;
    this.seen(message);
    if (message.origin === this.options.instanceId) return;
    this.options.deliver(message);
  }

  private seen(message: M): void {
    this.lastId = message.id;
    if (message.at > this.lastAt) this.lastAt = message.at;
  }

  private parse(text: string | null): M | null {
    if (text === null) return null;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null) return null;
      const fields = value as Record<string, unknown>;
      const { id, origin, at } = fields;
      if (typeof id !== 'string' || typeof origin !== 'string' || typeof at !== 'number') return null;
      return this.options.parse(fields, { id, origin, at });
    } catch {
      return null;
    }
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
