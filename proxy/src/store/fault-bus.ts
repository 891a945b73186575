// Fleet-wide admin drills (SPEC §11): a drill posted to or deleted from one sidecar reaches every
// sidecar through Redis pub/sub (channel `sluice:faults`), the way the switch does. Each message
// carries the whole set of admin drills, so the last one wins and nothing is lost to ordering; the
// set is also kept under a key (expiring with its last drill), so a sidecar that connects or
// reconnects mid-drill joins it. Every drill carries its own end: a sidecar cut off from Redis
// still ends it on time.
import { randomUUID } from 'node:crypto';
import type { AdminDrill } from '../faults/fault-state.ts';
import type { StoreRules } from '../rules/types.ts';
import { BroadcastBus, type BusMessage } from './broadcast-bus.ts';

export const FAULT_CHANNEL = 'sluice:faults';
const SET_KEY = 'sluice:{faults}:drills';

interface FaultMessage extends BusMessage {
  readonly drills: readonly AdminDrill[];
}

export type FaultListener = (drills: readonly AdminDrill[], origin: string) => void;

export class FaultBus {
  readonly instanceId: string;
  private readonly bus: BroadcastBus<FaultMessage>;
  private listener: FaultListener | null = null;

  constructor(rules: StoreRules, options: { instanceId: string; timeoutMs?: number }) {
    this.instanceId = options.instanceId;
    this.bus = new BroadcastBus<FaultMessage>(rules, {
      channel: FAULT_CHANNEL,
      key: SET_KEY,
      name: 'faults',
      instanceId: options.instanceId,
      timeoutMs: options.timeoutMs,
      // The kept set is the drills running now: a sidecar that starts mid-drill joins it.
      replayOnFirstConnect: true,
      parse,
      deliver: (message) => this.listener?.(message.drills, message.origin),
    });
  }

  /** Broadcasts this sidecar's set of admin drills. Rejects when Redis cannot take it. */
  async publish(drills: readonly AdminDrill[]): Promise<void> {
    const message: FaultMessage = { id: randomUUID(), origin: this.instanceId, at: Date.now(), drills };
    // The set is kept until its last drill ends.
    const lastEnd = Math.max(0, ...drills.map((drill) => drill.fault.until ?? 0));
    await this.bus.publish(message, lastEnd - Date.now());
  }

  subscribe(listener: FaultListener): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    this.listener = null;
    await this.bus.close();
  }
}

function parse(value: Readonly<Record<string, unknown>>, header: BusMessage): FaultMessage | null {
  const list = value.drills;
  if (!Array.isArray(list)) return null;
  const drills = (list as AdminDrill[]).filter((drill) => typeof drill?.fault?.name === 'string' && typeof drill.fault.until === 'number');
  return { ...header, drills };
}
