// Fleet-wide emergency switch: POST /admin/switch on one sidecar reaches every sidecar through
// Redis pub/sub (channel `sluice:switch`). The last switch is also kept under a key, so a sidecar
// whose subscriber connection was away when a switch was published picks it up on reconnect.
// A sidecar that starts later keeps the switch of its rules files: an old emergency switch is not
// replayed onto new instances.
import { randomUUID } from 'node:crypto';
import type { StoreRules } from '../rules/types.ts';
import { BroadcastBus, type BusMessage } from './broadcast-bus.ts';

export const SWITCH_CHANNEL = 'sluice:switch';
const LAST_KEY = 'sluice:{switch}:last';
/** The last switch is kept a day: long enough for any reconnect, short enough not to linger. */
const LAST_TTL_MS = 86_400_000;

/** Cluster name → cluster it is re-pointed to. */
export type SwitchMap = Readonly<Record<string, string>>;
export type SwitchListener = (switchMap: SwitchMap, origin: string) => void;

interface SwitchMessage extends BusMessage {
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
  private readonly bus: BroadcastBus<SwitchMessage>;
  private readonly listeners = new Set<SwitchListener>();

  constructor(rules: StoreRules, options: SwitchBusOptions) {
    this.instanceId = options.instanceId;
    this.bus = new BroadcastBus<SwitchMessage>(rules, {
      channel: SWITCH_CHANNEL,
      key: LAST_KEY,
      name: 'switch',
      instanceId: options.instanceId,
      timeoutMs: options.timeoutMs,
      // A sidecar that starts later keeps the switch of its rules files.
      replayOnFirstConnect: false,
      parse,
      deliver: (message) => {
        for (const listener of this.listeners) listener(message.switch, message.origin);
      },
    });
  }

  /** Broadcast a switch to every other sidecar. Rejects when Redis cannot take it. */
  async publish(switchMap: SwitchMap): Promise<void> {
    const message: SwitchMessage = {
      id: randomUUID(),
      origin: this.instanceId,
      at: Date.now(),
      switch: { ...switchMap },
    };
    await this.bus.publish(message, LAST_TTL_MS);
  }

  /** Calls `listener` for each switch published by another sidecar; answers an unsubscribe. */
  subscribe(listener: SwitchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.bus.close();
  }
}

function parse(value: Readonly<Record<string, unknown>>, header: BusMessage): SwitchMessage | null {
  const map = value.switch;
  if (typeof map !== 'object' || map === null) return null;
  const entries = Object.entries(map);
  if (!entries.every(([, to]) => typeof to === 'string')) return null;
  return { ...header, switch: Object.fromEntries(entries) as Record<string, string> };
}
