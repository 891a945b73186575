// Whole process: a sticky split moves a stable share of member ids to the new store, and a
// rules reload that raises the percent moves more ids, never back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metricsText, metricValue } from '../helpers/admin.ts';
import { runLoad, startLoad } from '../helpers/load.ts';
import { startMemberStore, type MemberStore } from '../helpers/member-stores.ts';
import { sidecarOnRules, type RulesDirSidecar } from '../helpers/rules-dir.ts';

const IDS = Array.from({ length: 2000 }, (_, i) => String(10_000 + i * 13));

function rules(oldPort: number, newPort: number, percent: number): string {
  return `version: 1
clusters:
  sqlserver: { endpoints: ["http://127.0.0.1:${oldPort}"], timeout: 2s }
  mysql-new: { endpoints: ["http://127.0.0.1:${newPort}"], timeout: 2s }
classes:
  order: { cluster: sqlserver, split: { to: mysql-new, percent: ${percent}, sticky: "path:/members/{id}" } }
callers:
  auth: trust
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Load member profile, class: order }
`;
}

/** Reads every id once through the sidecar; answers the ids the new store served. */
async function readAll(url: string, stores: { neu: MemberStore }): Promise<{ moved: Set<string>; failures: number }> {
  const before = stores.neu.served.length;
  const tally = await runLoad(url, {
    connections: 16,
    durationMs: 30_000,
    maxRequests: IDS.length,
    request: (i) => ({ path: `/members/${IDS[i]}`, headers: { 'x-caller-account': 'order-center' } }),
  });
  // A background load reading meanwhile adds nothing new: at any percent up to this one, the ids
  // it moves are a subset of those this pass moves.
  return { moved: new Set(stores.neu.served.slice(before)), failures: tally.failures.length + tally.answered - (tally.byStatus.get(200) ?? 0) };
}

describe('sticky split of member reads (whole process)', () => {
  let old: MemberStore;
  let neu: MemberStore;
  let running: RulesDirSidecar;

  before(async () => {
    [old, neu] = await Promise.all([startMemberStore('sqlserver'), startMemberStore('mysql-new')]);
    running = await sidecarOnRules(rules(old.port, neu.port, 10));
  });

  after(async () => {
    await running?.close();
    await Promise.all([old?.close(), neu?.close()]);
  });

  it('sends 10% ± 3 of 2,000 distinct ids to the new store, the same ids every time; at 30% after a reload, every moved id stays moved', async () => {
    const url = running.sidecar.url;
    const first = await readAll(url, { neu });
    const second = await readAll(url, { neu });
    assert.equal(first.failures, 0);
    assert.equal(second.failures, 0);
    const share10 = first.moved.size / IDS.length;
    assert.ok(Math.abs(share10 - 0.1) <= 0.03, `10% split moved ${first.moved.size} of ${IDS.length}`);
    assert.deepEqual([...second.moved].sort(), [...first.moved].sort(), 'the same ids go to the new store every time');

    // Raise the percent by a rules reload while callers keep reading: nothing lost.
    const background = startLoad(url, {
      connections: 8,
      durationMs: 10_000,
      maxRequests: 20_000,
      ratePerSecond: 400,
      request: (i) => ({ path: `/members/${IDS[i % IDS.length]}`, headers: { 'x-caller-account': 'order-center' } }),
    });
    const reloadMs = await running.reload(rules(old.port, neu.port, 30));
    const third = await readAll(url, { neu });
    const during = await background.stop();
    assert.equal(third.failures, 0);
    const share30 = third.moved.size / IDS.length;
    const stayed = [...first.moved].filter((id) => third.moved.has(id)).length;
    console.log(
      `split of ${IDS.length} distinct ids: 10% → ${first.moved.size} (${(share10 * 100).toFixed(1)}%), ` +
        `same ids on a second pass: ${second.moved.size === first.moved.size ? 'yes' : 'no'}; ` +
        `30% after reload → ${third.moved.size} (${(share30 * 100).toFixed(1)}%), ${stayed}/${first.moved.size} of the moved ids stayed; ` +
        `reload in force after ${reloadMs.toFixed(0)} ms, ${during.answered} requests during it, ${during.failures.length} failures, ` +
        `${during.answered - (during.byStatus.get(200) ?? 0)} non-200`,
    );
    assert.ok(Math.abs(share30 - 0.3) <= 0.03, `30% split moved ${third.moved.size} of ${IDS.length}`);
    assert.equal(stayed, first.moved.size, 'every id moved at 10% is still on the new store at 30%');
    assert.ok(reloadMs < 1000, `the new percent applied within 1 s (took ${reloadMs.toFixed(0)} ms)`);
    assert.equal(during.failures.length, 0);
    assert.equal(during.byStatus.get(200), during.answered, 'no request lost or refused during the reload');

    // Another sidecar process (another pod, or a restart) on the same rules moves the same ids.
    const other = await sidecarOnRules(rules(old.port, neu.port, 30));
    const elsewhere = await readAll(other.sidecar.url, { neu }).finally(() => other.close());
    assert.deepEqual([...elsewhere.moved].sort(), [...third.moved].sort(), 'a second sidecar process moves exactly the same ids');
    console.log(`a second sidecar process at 30% moved the same ${elsewhere.moved.size} ids`);

    const metrics = await metricsText(running.sidecar);
    const movedCount = metricValue(metrics, 'sluice_split_requests_total', { class: 'order', cluster: 'mysql-new' });
    const homeCount = metricValue(metrics, 'sluice_split_requests_total', { class: 'order', cluster: 'sqlserver' });
    assert.equal((movedCount ?? 0) + (homeCount ?? 0), IDS.length * 3 + during.answered);
    assert.equal(movedCount, neu.served.length - elsewhere.moved.size, 'every request the new store served was counted as split to it');
  });
});
