// The fleet ledger on a real Redis Cluster: each account's keys share one hash tag, so one script
// call per account writes on whichever master holds it, and one PFCOUNT unions its days; two
// writers (two sidecars) add up; every key expires within 30 days.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { LedgerDelta } from '../../src/accounts/ledger-day.ts';
import type { StoreRules } from '../../src/rules/types.ts';
import { ledgerTag, LEDGER_TTL_SECONDS } from '../../src/store/ledger-keys.ts';
import { RedisLedgerReader, RedisLedgerSink } from '../../src/store/ledger-redis.ts';
import { startRedisCluster, type RedisCluster } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

const run = promisify(execFile);
const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);
const YESTERDAY = NOW - 86_400_000;

function delta(id: string, over: Partial<LedgerDelta> = {}): LedgerDelta {
  const second = Math.floor(NOW / 1000) - 1;
  return {
    id,
    registered: true,
    requests: 10,
    offScenario: 0,
    rejections: [],
    routes: [['GET /members/*', 10]],
    identities: [['booking-web', 10]],
    seconds: [[second, 10]],
    firstSeen: NOW - 1000,
    lastSeen: NOW - 10,
    ...over,
  };
}

describe('fleet ledger on Redis Cluster', () => {
  let cluster: RedisCluster;
  let rules: StoreRules;

  before(async () => {
    cluster = await startRedisCluster();
    rules = { kind: 'redis-cluster', url: null, nodes: cluster.nodes, onFailure: 'local', instances: 2 };
  });

  after(async () => {
    await cluster?.stop();
  });

  it('two writers add up per account; identities union over days; keys expire within 30 days', async () => {
    const one = new RedisLedgerSink(rules);
    const two = new RedisLedgerSink(rules);
    const reader = new RedisLedgerReader(rules);
    try {
      const ids = ['order-center', 'campaign', 'booking-app', 'insurance'];
      // Connections come up asynchronously and commands never queue: written once the sink is connected.
      const write = async (sink: RedisLedgerSink, batch: LedgerDelta[], at: number) => {
        let written: Awaited<ReturnType<RedisLedgerSink['write']>> | undefined;
        await waitFor(
          async () => {
            try {
              written = await sink.write(batch, at);
              return true;
            } catch {
              return false;
            }
          },
          { timeoutMs: 5000, intervalMs: 100, message: 'the ledger batch to be written' },
        );
        return written as Awaited<ReturnType<RedisLedgerSink['write']>>;
      };
      await write(one, [delta('campaign', { identities: [['old-app', 3]], seconds: [] })], YESTERDAY);
      const fleetOne = await write(one, ids.map((id) => delta(id)), NOW);
      const fleetTwo = await write(
        two,
        ids.map((id) =>
          delta(id, {
            identities: [['coupon-batch', 10]],
            offScenario: 2,
            rejections: [['account_quota', 4]],
            routes: [['GET /orders/*', 10]],
          }),
        ),
        NOW,
      );
      await write(one, [delta('ghost-app', { registered: false, requests: 3, identities: [['mystery-cron', 3]], seconds: [] })], NOW);
      assert.equal(fleetOne.get('campaign'), 1);
      assert.equal(fleetTwo.get('campaign'), 2, 'the writer learns the fleet-wide count of today');

      for (const id of ids) {
        const s = await reader.summary(id, true, 1, NOW);
        assert.equal(s.requests, 20, id);
        assert.equal(s.peak_rps, 20, `${id}: both writers' same second summed`);
        assert.equal(s.off_scenario, 2);
        assert.deepEqual(s.rejections, { account_quota: 4 });
        assert.deepEqual(s.routes.map((r) => r.name).sort(), ['GET /members/*', 'GET /orders/*']);
      }
      const campaign = await reader.summary('campaign', true, 2, NOW);
      console.log(`campaign over 2 days: ${campaign.requests} requests, ${campaign.identities} identities (${campaign.top_identities.map((i) => i.name).join(', ')}), per day ${JSON.stringify(campaign.per_day)}`);
      assert.equal(campaign.identities, 3, 'union of both days');
      assert.deepEqual(campaign.per_day.map((d) => d.identities), [1, 2]);
      assert.deepEqual(await reader.unregisteredNames(1, NOW), ['ghost-app']);
      assert.equal((await reader.summary('ghost-app', false, 1, NOW)).identities, 1);

      // The accounts spread over the masters (by their tags), and every key carries its TTL.
      const slots = new Set<number>();
      for (const id of ids) {
        const { stdout } = await run('redis-cli', ['-c', '-p', cluster.nodes[0].split(':')[1], 'CLUSTER', 'KEYSLOT', ledgerTag(id, true)]);
        slots.add(Number(stdout.trim()));
        const ttl = await run('redis-cli', ['-c', '-p', cluster.nodes[0].split(':')[1], 'TTL', `${ledgerTag(id, true)}:2026-06-10`]);
        const seconds = Number(ttl.stdout.trim());
        assert.ok(seconds > LEDGER_TTL_SECONDS - 60 && seconds <= LEDGER_TTL_SECONDS, `TTL ${seconds}`);
      }
      assert.ok(slots.size > 1, 'accounts hash to different slots');
    } finally {
      await Promise.all([one.close(), two.close(), reader.close()]);
    }
  });
});
