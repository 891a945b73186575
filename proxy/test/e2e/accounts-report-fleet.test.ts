// Whole-process: two sidecars on one redis-server keep one fleet-wide caller ledger. Each
// sidecar sees only one of the two apps sharing an account; the report read from Redis sees
// both, with the counts of both sidecars summed. A Redis outage costs ledger seconds, never a
// request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminJson } from '../helpers/admin.ts';
import { startFleet, type Fleet } from '../helpers/fleet.ts';
import {
  driveLedgerTraffic,
  GHOST_ATTEMPTS,
  ledgerRules,
  reportJson,
  SHARED_REQUESTS,
  SHARED_TOTAL,
  sluice,
  type LedgerTraffic,
  type ReportJson,
} from '../helpers/ledger-scenario.ts';
import { send } from '../helpers/load.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('accounts report across a fleet on one redis-server', () => {
  let redis: RedisServer;
  let fleet: Fleet;
  let traffic: LedgerTraffic;

  before(async () => {
    redis = await startRedis();
    fleet = await startFleet(2, (ports) => ledgerRules(ports, `store: { kind: redis, url: "${redis.url}" }\n`));
    traffic = await driveLedgerTraffic(fleet.sidecars.map((s) => s.url));
  });

  after(async () => {
    await fleet?.close();
    await redis?.stop();
  });

  const fleetReport = (): Promise<ReportJson> => reportJson(['--rules', fleet.dir, '--redis', redis.url]);

  it('merges both sidecars: shared with 2 identities, off-scenario, unused, the unregistered caller, counts summed', async () => {
    const report = await waitFor(
      async () => {
        const r = await fleetReport();
        const of = (id: string) => r.accounts.find((a) => a.id === id)?.requests;
        return of('shared-acct') === SHARED_TOTAL && of('steady-acct') === traffic.steadySent ? r : null;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: 'the fleet ledger to hold every request' },
    );
    interface Local {
      ledger: { requests: number; identities: number };
    }
    const locals = await Promise.all(fleet.sidecars.map((s) => adminJson<Local>(s, '/admin/accounts/shared-acct')));
    console.log(
      `shared-acct per sidecar: ${locals.map((l, i) => `#${i} ${l.ledger.requests} requests, ${l.ledger.identities} identity`).join('; ')}`,
    );
    assert.deepEqual(locals.map((l) => l.ledger.identities), [1, 1], 'each sidecar alone sees one app');

    const of = (id: string) => {
      const row = report.accounts.find((a) => a.id === id);
      assert.ok(row, `a row for ${id}`);
      return row;
    };
    const shared = of('shared-acct');
    const steady = of('steady-acct');
    console.log(`fleet report (${report.source}):`);
    for (const row of report.accounts) {
      console.log(`  ${row.id}: ${row.requests} requests, peak ${row.peak_rps}/s, ${row.identities} identities, ${row.off_scenario} off-scenario, flags ${row.flags.join(',') || '-'}`);
    }
    console.log(`  unregistered: ${report.unregistered.map((u) => `${u.name} ${u.attempts} attempts`).join('; ')}`);
    assert.equal(shared.requests, locals[0].ledger.requests + locals[1].ledger.requests);
    assert.equal(shared.identities, 2);
    assert.equal(shared.off_scenario, SHARED_REQUESTS.appBOff);
    assert.ok(shared.flags.includes('shared') && shared.flags.includes('off-scenario'), shared.flags.join(','));
    assert.deepEqual(of('idle-acct').flags, ['unused']);
    // Paced at 25/s on each sidecar: the fleet's busiest second is the sum, about 50.
    assert.ok(steady.peak_rps >= 40 && steady.peak_rps <= 60, `fleet peak ${steady.peak_rps}/s`);
    const ghost = report.unregistered.find((u) => u.name === 'ghost-app');
    assert.equal(ghost?.attempts, GHOST_ATTEMPTS);

    const table = await sluice(['accounts', 'report', '--rules', fleet.dir, '--redis', redis.url]);
    console.log(table);
    assert.match(table, /^shared-acct .* 2 \(.*\) .*shared,off-scenario$/m);
    assert.match(table, /^ghost-app\s+5\s/m);

    const suggested = await sluice(['accounts', 'report', '--rules', fleet.dir, '--redis', redis.url, '--suggest-quotas']);
    const rate = Number(/set-quota steady-acct (\d+)\/s/.exec(suggested)?.[1]);
    console.log(`fleet suggestion for steady-acct: ${rate}/s`);
    assert.ok(rate >= 50 && rate <= 120, `suggested ${rate}/s`);
  });

  it('Redis away: every request still answered 200; the ledger resumes when Redis is back', async () => {
    await redis.kill();
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send(fleet.sidecars[i % 2].url, '/members/1', { 'x-caller-account': 'shared-acct', 'x-client-app': 'late-app' }),
      ),
    );
    assert.deepEqual([...new Set(during.map((a) => a.status))], [200]);
    await redis.restart();
    const back = await waitFor(
      async () => {
        const answer = await send(fleet.sidecars[0].url, '/members/2', { 'x-caller-account': 'shared-acct', 'x-client-app': 'late-app' });
        assert.equal(answer.status, 200);
        const r = await fleetReport().catch(() => null);
        const row = r?.accounts.find((a) => a.id === 'shared-acct');
        return row !== undefined && row.requests > 0 ? row : null;
      },
      { timeoutMs: 15_000, intervalMs: 300, message: 'the ledger to reach the restarted Redis' },
    );
    console.log(`after the outage: shared-acct ${back.requests} requests in the restarted (empty) Redis, 20 sent while it was away, all answered 200`);
    assert.ok(back.requests >= 1);
  });
});
