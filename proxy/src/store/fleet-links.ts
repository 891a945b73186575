// What a sidecar on a shared store opens on Redis besides its counters: the switch bus, the drill
// bus and the ledger's sink. Their modules (and ioredis with them) are imported only then: a
// sidecar on the memory store never holds them.
import type { StoreRules } from '../rules/types.ts';
import type { FaultBus } from './fault-bus.ts';
import type { RedisLedgerSink } from './ledger-redis.ts';
import type { SwitchBus } from './switch-bus.ts';

export interface FleetLinks {
  readonly switchBus: SwitchBus;
  readonly faultBus: FaultBus;
  readonly ledgerSink: RedisLedgerSink;
}

/** The links of a shared store; null on the memory store (one instance, nothing to share). */
export async function openFleetLinks(rules: StoreRules | null, instanceId: string): Promise<FleetLinks | null> {
  if (rules === null || rules.kind === 'memory') return null;
  const [{ SwitchBus }, { FaultBus }, { RedisLedgerSink }] = await Promise.all([
    import('./switch-bus.ts'),
    import('./fault-bus.ts'),
    import('./ledger-redis.ts'),
  ]);
  return {
    switchBus: new SwitchBus(rules, { instanceId }),
    faultBus: new FaultBus(rules, { instanceId }),
    ledgerSink: new RedisLedgerSink(rules),
  };
}
