// The fleet-wide caller ledger in Redis or Redis Cluster (SPEC §13). Writer: once a second, one
// script call per account that changed (its own slot), plus one index update per unregistered
// name; commands fail at once while Redis is away, and that second's batch is lost, never a
// request. Reader: the same summaries the in-process ledger serves, merged over the fleet.
import type { LedgerSink } from '../accounts/ledger.ts';
import { addCount, dayName, dayNumber, SummaryTotals, top, type LedgerDelta, type LedgerSummary } from '../accounts/ledger-day.ts';
import type { StoreRules } from '../rules/types.ts';
import { LEDGER_WRITE_LUA } from './ledger-lua.ts';
import { dayKeys, LEDGER_TTL_SECONDS, ledgerTag, secondKey, unregisteredIndexKey } from './ledger-keys.ts';
import { createRedisClient, type RedisClient } from './redis-client.ts';

type WriteScript = (numberOfKeys: number, ...args: (string | number)[]) => Promise<number>;

/** Most unregistered names kept per day in the index. */
const INDEX_SIZE = 100;

/** `offlineQueue`: the report's reader waits for the connection; the sidecar's writer never does. */
function ledgerClient(rules: StoreRules, timeoutMs: number, offlineQueue = false): RedisClient {
  return createRedisClient(rules, {
    commandTimeoutMs: timeoutMs,
    offlineQueue,
    scripts: { sluiceLedgerWrite: { lua: LEDGER_WRITE_LUA } },
    // Its key count comes first in its arguments: auto-pipelining would take that for a key.
    notAutoPipelined: ['sluiceLedgerWrite'],
    connectionName: 'sluice-ledger',
  });
}

async function quit(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

export class RedisLedgerSink implements LedgerSink {
  private readonly client: RedisClient;
  private readonly script: WriteScript;

  constructor(rules: StoreRules, options: { commandTimeoutMs?: number } = {}) {
    this.client = ledgerClient(rules, options.commandTimeoutMs ?? 1000);
    const command = (this.client as unknown as Record<string, WriteScript>).sluiceLedgerWrite;
    this.script = (n, ...args) => command.call(this.client, n, ...args);
  }

  async write(batch: readonly LedgerDelta[], wallMs: number): Promise<ReadonlyMap<string, number>> {
    const day = dayName(dayNumber(wallMs));
    const writes = batch.map((delta) => this.writeOne(delta, day));
    const answers = await Promise.all(writes);
    const fleet = new Map<string, number>();
    batch.forEach((delta, i) => {
      if (delta.registered) fleet.set(delta.id, answers[i]);
    });
    return fleet;
  }

  private async writeOne(delta: LedgerDelta, day: string): Promise<number> {
    const tag = ledgerTag(delta.id, delta.registered);
    const k = dayKeys(tag, day);
    const keys = [k.hash, k.routes, k.ids, k.hll, ...delta.seconds.map(([s]) => secondKey(tag, s))];
    const args: (string | number)[] = [
      LEDGER_TTL_SECONDS,
      delta.requests,
      delta.offScenario,
      Math.round(delta.firstSeen),
      Math.round(delta.lastSeen),
    ];
    for (const list of [delta.rejections, delta.routes, delta.identities]) {
      args.push(list.length);
      for (const [name, n] of list) args.push(name, n);
    }
    for (const [, n] of delta.seconds) args.push(n);
    const count = this.script(keys.length, ...keys, ...args);
    if (!delta.registered && delta.requests > 0) {
      const index = unregisteredIndexKey(day);
      await Promise.all([
        this.client.zincrby(index, delta.requests, delta.id),
        this.client.zremrangebyrank(index, 0, -(INDEX_SIZE + 1)),
        this.client.expire(index, LEDGER_TTL_SECONDS),
      ]);
    }
    return count;
  }

  close(): Promise<void> {
    return quit(this.client);
  }
}

/** Reads summaries back, for `sluice accounts report --redis`. */
export class RedisLedgerReader {
  private readonly client: RedisClient;

  constructor(rules: StoreRules) {
    this.client = ledgerClient(rules, 5000, true);
  }

  /** The ledger of `id` over `days` UTC days ending with the day of `wallMs`. */
  async summary(id: string, registered: boolean, days: number, wallMs: number): Promise<LedgerSummary> {
    const tag = ledgerTag(id, registered);
    const today = dayNumber(wallMs);
    const totals = new SummaryTotals();
    const hlls: string[] = [];
    for (let d = today - Math.max(1, days) + 1; d <= today; d++) {
      const k = dayKeys(tag, dayName(d));
      const [hash, routeList, idList, count] = await Promise.all([
        this.client.hgetall(k.hash),
        this.client.zrange(k.routes, '0', '-1', 'WITHSCORES'),
        this.client.zrange(k.ids, '0', '-1', 'WITHSCORES'),
        this.client.pfcount(k.hll),
      ]);
      if (Object.keys(hash).length === 0) continue;
      hlls.push(k.hll);
      for (const [field, value] of Object.entries(hash)) {
        if (field.startsWith('rej:')) addCount(totals.rejections, field.slice(4), Number(value));
      }
      addPairs(totals.routes, routeList);
      addPairs(totals.identities, idList);
      totals.addDay(d, {
        requests: Number(hash.requests ?? 0),
        offScenario: Number(hash.off_scenario ?? 0),
        peak: Number(hash.peak ?? 0),
        firstSeen: Number(hash.first_seen ?? -1),
        lastSeen: Number(hash.last_seen ?? -1),
        identities: count,
      });
    }
    // The union over the period: one slot, so one PFCOUNT even on a cluster.
    const union = hlls.length === 0 ? 0 : await this.client.pfcount(...hlls);
    return totals.summary(days, union);
  }

  /** Names unregistered callers sent over the period, busiest first. */
  async unregisteredNames(days: number, wallMs: number): Promise<string[]> {
    const today = dayNumber(wallMs);
    const totals = new Map<string, number>();
    for (let d = today - Math.max(1, days) + 1; d <= today; d++) {
      addPairs(totals, await this.client.zrange(unregisteredIndexKey(dayName(d)), '0', '-1', 'WITHSCORES'));
    }
    return top(totals, INDEX_SIZE).map((c) => c.name);
  }

  close(): Promise<void> {
    return quit(this.client);
  }
}

function addPairs(map: Map<string, number>, flat: readonly string[]): void {
  for (let i = 0; i + 1 < flat.length; i += 2) addCount(map, flat[i], Number(flat[i + 1]));
}
