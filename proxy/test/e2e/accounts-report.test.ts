// Whole-process: the caller ledger of a running sidecar (memory store) and `sluice accounts
// report` over its admin port: a shared account, an idle one, an unregistered caller; quota
// suggestions whose printed `set-quota` line works, keeps comments and leaves valid rules.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminJson, metricsText, metricValue } from '../helpers/admin.ts';
import {
  driveLedgerTraffic,
  GHOST_ATTEMPTS,
  KEPT_COMMENT,
  ledgerRules,
  reportJson,
  SHARED_REQUESTS,
  SHARED_TOTAL,
  sluice,
  type LedgerTraffic,
  type ReportJson,
} from '../helpers/ledger-scenario.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('accounts report from one sidecar', () => {
  let stack: Stack;
  let traffic: LedgerTraffic;
  let report: ReportJson;

  before(async () => {
    stack = await startStack((ports) => ledgerRules(ports), { prefix: 'sluice-ledger-' });
    traffic = await driveLedgerTraffic([stack.sidecar.url]);
    interface Ledgers {
      accounts: { id: string; ledger: { requests: number } }[];
    }
    // The ledger takes the counters once a second: wait until it has every request.
    await waitFor(
      async () => {
        const view = await adminJson<Ledgers>(stack.sidecar, '/admin/accounts');
        const of = (id: string) => view.accounts.find((a) => a.id === id)?.ledger.requests;
        return of('shared-acct') === SHARED_TOTAL && of('steady-acct') === traffic.steadySent;
      },
      { timeoutMs: 5000, intervalMs: 100, message: 'the ledger to hold every request' },
    );
    report = await reportJson(['--rules', stack.dir, '--admin', stack.sidecar.adminUrl, '--days', '7']);
  });

  after(async () => {
    await stack?.close();
  });

  it('flags the account two apps share and call off its routes, the idle one, and lists the unregistered caller', async () => {
    const of = (id: string) => {
      const row = report.accounts.find((a) => a.id === id);
      assert.ok(row, `a row for ${id}`);
      return row;
    };
    const shared = of('shared-acct');
    console.log(
      `shared-acct: ${shared.requests} requests, ${shared.identities} identities (${shared.top_identities.map((i) => `${i.name} ${i.count}`).join(', ')}), ` +
        `${shared.off_scenario} off-scenario (${(shared.off_scenario_share * 100).toFixed(1)}%), flags ${shared.flags.join(',')}`,
    );
    assert.equal(shared.requests, SHARED_TOTAL);
    assert.equal(shared.identities, 2);
    assert.deepEqual(
      shared.top_identities.map((i) => [i.name, i.count]),
      [['booking-web', SHARED_REQUESTS.appA], ['coupon-batch', SHARED_REQUESTS.appB + SHARED_REQUESTS.appBOff]].sort((a, b) => Number(b[1]) - Number(a[1])),
    );
    assert.equal(shared.off_scenario, SHARED_REQUESTS.appBOff);
    assert.ok(shared.flags.includes('shared') && shared.flags.includes('off-scenario'), shared.flags.join(','));
    assert.ok(!shared.flags.includes('unused'));

    const idle = of('idle-acct');
    console.log(`idle-acct: ${idle.requests} requests, flags ${idle.flags.join(',')}`);
    assert.deepEqual(idle.flags, ['unused']);

    const steady = of('steady-acct');
    console.log(`steady-acct: ${steady.requests} requests (sent ${traffic.steadySent}, admitted ${traffic.steadyAdmitted}), rejections ${JSON.stringify(steady.rejections)}, peak ${steady.peak_rps}/s, flags ${steady.flags.join(',') || '-'}`);
    assert.equal(steady.identities, 1);
    assert.deepEqual(steady.flags, []);

    const ghost = report.unregistered.find((u) => u.name === 'ghost-app');
    console.log(`unregistered: ${report.unregistered.map((u) => `${u.name} ${u.attempts} attempts, ${u.identities} identities`).join('; ')}`);
    assert.ok(ghost, 'the unregistered caller is listed');
    assert.equal(ghost.attempts, GHOST_ATTEMPTS);
    assert.equal(ghost.identities, 1);
  });

  it('prints the same as a table', async () => {
    const table = await sluice(['accounts', 'report', '--rules', stack.dir, '--admin', stack.sidecar.adminUrl]);
    console.log(table);
    const line = (id: string) => table.split('\n').find((l) => l.startsWith(`${id} `)) ?? '';
    assert.match(line('shared-acct'), /2 \(.*booking-web.*\)/);
    assert.match(line('shared-acct'), /shared,off-scenario/);
    assert.match(line('idle-acct'), /never\s+unused$/);
    assert.match(table, /unregistered callers that tried:\n.*\nghost-app\s+5\s+1 \(mystery-cron\)/);
  });

  it('exports sluice_account_identities per account', async () => {
    const text = await metricsText(stack.sidecar);
    const shared = metricValue(text, 'sluice_account_identities', { account: 'shared-acct' });
    const idle = metricValue(text, 'sluice_account_identities', { account: 'idle-acct' });
    console.log(`sluice_account_identities: shared-acct ${shared}, idle-acct ${idle}`);
    assert.equal(shared, 2);
    assert.equal(idle, 0);
    assert.equal(metricValue(text, 'sluice_account_identities', { account: 'ghost-app' }), null, 'unregistered names are never labels');
  });

  it('--suggest-quotas for an account peaking at ~50 req/s suggests 50 to 120/s, and the printed set-quota line works', async () => {
    const out = await sluice(['accounts', 'report', '--rules', stack.dir, '--admin', stack.sidecar.adminUrl, '--suggest-quotas']);
    console.log(out);
    const line = out.split('\n').find((l) => l.startsWith('sluice accounts set-quota steady-acct '));
    assert.ok(line, `a set-quota line for steady-acct in:\n${out}`);
    const rate = Number(/set-quota steady-acct (\d+)\/s/.exec(line)?.[1]);
    assert.ok(rate >= 50 && rate <= 120, `suggested ${rate}/s`);
    assert.match(out, /^# idle-acct: no calls/m);

    const command = line.split('#')[0].trim().split(/\s+/).slice(1);
    const said = await sluice(command);
    console.log(said.trim());
    const text = await readFile(join(stack.dir, 'rules.yaml'), 'utf8');
    assert.ok(text.includes(KEPT_COMMENT), 'the comment above the account is kept');
    assert.ok(text.includes('# shared-acct: registered for the order flow'), 'other comments are kept');
    assert.match(text, new RegExp(`quota: ${rate}/s   # as applied for`), 'the value is replaced in place, its comment kept');
    const validated = await sluice(['validate', stack.dir]);
    console.log(validated.trim());

    interface One {
      quota: string | null;
    }
    await waitFor(async () => (await adminJson<One>(stack.sidecar, '/admin/accounts/steady-acct')).quota === `${rate}/s`, {
      timeoutMs: 5000,
      message: 'the running sidecar to take the new quota',
    });
  });
});
