// Whole process: a mirror copies member reads to the candidate store and compares the answers,
// never touching what the caller gets; a slow candidate costs callers nothing and excess copies
// are dropped, not queued.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { adminJson, metricsText, metricValue } from '../helpers/admin.ts';
import { runLoad, type Answer, type LoadTally } from '../helpers/load.ts';
import { startMemberStore, type MemberStore } from '../helpers/member-stores.ts';
import { sidecarOnRules, type RulesDirSidecar } from '../helpers/rules-dir.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface MirrorView {
  name: string;
  counts: { match: number; mismatch: number; error: number; dropped: number };
  in_flight: number;
  recent_mismatches: { route: string; method: string; status: [number, number]; paths: string[]; compared: string }[];
}

function rules(oldPort: number, newPort: number, mirror: string, newTimeout = '2s'): string {
  return `version: 1
clusters:
  sqlserver: { endpoints: ["http://127.0.0.1:${oldPort}"], timeout: 2s }
  mysql-new: { endpoints: ["http://127.0.0.1:${newPort}"], timeout: ${newTimeout} }
classes:
  order: { cluster: sqlserver }
callers:
  auth: trust
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Load member profile, class: order }
${mirror}`;
}

const MIRROR = (maxInFlight: number) => `mirrors:
  - name: mysql-check
    from: sqlserver
    to: mysql-new
    compare: { ignore: [/served_at, /store] }
    max_in_flight: ${maxInFlight}
`;

const ORDER = { 'x-caller-account': 'order-center' };

async function mirrorView(running: RulesDirSidecar): Promise<MirrorView> {
  const view = await adminJson<{ mirrors: MirrorView[] }>(running.sidecar, '/admin/mirrors');
  return view.mirrors[0];
}

interface Round {
  readonly mirrored: Answer[];
  readonly plain: Answer[];
  readonly tally: LoadTally;
  readonly plainFailures: number;
  readonly counts: MirrorView['counts'];
  /** Most copies in flight seen on /admin/mirrors. */
  readonly peak: number;
}

/**
 * The same paced load on both sidecars at once; meanwhile the mirrored one reloads `reloaded`,
 * rules that leave its mirror unchanged. Answers when the last copy of the round has finished.
 */
async function sideBySide(withMirror: RulesDirSidecar, without: RulesDirSidecar, reloaded: string): Promise<Round> {
  const before = (await mirrorView(withMirror)).counts;
  const answers = { mirrored: [] as Answer[], plain: [] as Answer[] };
  let peak = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      peak = Math.max(peak, (await mirrorView(withMirror)).in_flight);
      await delay(25);
    }
  })();
  const load = (url: string, into: Answer[]) =>
    runLoad(url, {
      connections: 8,
      durationMs: 3000,
      maxRequests: 900,
      ratePerSecond: 250,
      request: (i) => ({ path: `/members/${80_000 + i}`, headers: ORDER }),
      onAnswer: (a) => into.push(a),
    });
  const mirroredLoad = load(withMirror.sidecar.url, answers.mirrored);
  const plainLoad = load(without.sidecar.url, answers.plain);
  await withMirror.reload(reloaded);
  const [tally, plainTally] = await Promise.all([mirroredLoad, plainLoad]);
  const after = await waitFor(
    async () => {
      const v = await mirrorView(withMirror);
      return v.in_flight === 0 ? v : null;
    },
    { timeoutMs: 10_000, message: 'the last copies to finish' },
  );
  polling = false;
  await poll;
  return {
    ...answers,
    tally,
    plainFailures: plainTally.failures.length,
    counts: {
      match: after.counts.match - before.match,
      mismatch: after.counts.mismatch - before.mismatch,
      error: after.counts.error - before.error,
      dropped: after.counts.dropped - before.dropped,
    },
    peak,
  };
}

function p99(answers: readonly Answer[]): number {
  const sorted = answers.map((a) => a.answeredAt - a.sentAt).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

describe('mirrored reads compared with the candidate store (whole process)', () => {
  let old: MemberStore;
  let candidate: MemberStore;
  let running: RulesDirSidecar;

  before(async () => {
    [old, candidate] = await Promise.all([
      startMemberStore('sqlserver'),
      // The candidate has every tenth member's level wrong.
      startMemberStore('mysql-new', { differs: (id) => id % 10 === 0 }),
    ]);
    running = await sidecarOnRules(rules(old.port, candidate.port, MIRROR(64)), 'sluice-mirror-');
  });

  after(async () => {
    await running?.close();
    await Promise.all([old?.close(), candidate?.close()]);
  });

  it('counts matches and mismatches exactly and names the differing JSON path, with no member data in /admin/mirrors', async () => {
    const ids = Array.from({ length: 500 }, (_, i) => 70_000 + i);
    const bodies: string[] = [];
    const tally = await runLoad(running.sidecar.url, {
      connections: 8,
      durationMs: 30_000,
      maxRequests: ids.length,
      request: (i) => ({ path: `/members/${ids[i]}`, headers: ORDER }),
      onAnswer: (answer) => bodies.push(answer.body),
    });
    assert.equal(tally.failures.length, 0);
    assert.equal(tally.byStatus.get(200), ids.length);
    // Callers got the old store's answers, never the candidate's.
    assert.ok(bodies.every((body) => (JSON.parse(body) as { store: string }).store === 'sqlserver'));
    const view = await waitFor(
      async () => {
        const v = await mirrorView(running);
        return v.counts.match + v.counts.mismatch + v.counts.error + v.counts.dropped === ids.length && v.in_flight === 0 ? v : null;
      },
      { timeoutMs: 10_000, message: 'every copy compared' },
    );
    const differing = ids.filter((id) => id % 10 === 0).length;
    console.log(
      `mirror of ${ids.length} reads, candidate wrong on every tenth id: match ${view.counts.match}, mismatch ${view.counts.mismatch} ` +
        `(expected ${ids.length - differing} / ${differing}), error ${view.counts.error}, dropped ${view.counts.dropped}; ` +
        `last mismatch: ${JSON.stringify(view.recent_mismatches[0])}`,
    );
    assert.deepEqual(view.counts, { match: ids.length - differing, mismatch: differing, error: 0, dropped: 0 });
    assert.equal(candidate.mirrored.length, ids.length);
    assert.equal(view.recent_mismatches.length, 50);
    for (const sample of view.recent_mismatches) {
      assert.deepEqual(sample.paths, ['/level/tier']);
      assert.equal(sample.route, '/members/{id}');
      assert.deepEqual(sample.status, [200, 200]);
      assert.equal(sample.compared, 'json');
    }
    const text = JSON.stringify(await adminJson(running.sidecar, '/admin/mirrors'));
    for (const id of ids) assert.ok(!text.includes(String(id)), `member id ${id} appears in /admin/mirrors`);
    for (const value of ['silver', 'gold', 'member-']) assert.ok(!text.includes(value), `member data '${value}' appears in /admin/mirrors`);

    const metrics = await metricsText(running.sidecar);
    assert.equal(metricValue(metrics, 'sluice_mirror_requests_total', { mirror: 'mysql-check', result: 'match' }), ids.length - differing);
    assert.equal(metricValue(metrics, 'sluice_mirror_requests_total', { mirror: 'mysql-check', result: 'mismatch' }), differing);
    // The control log carries samples at a bounded rate (at most one per second per mirror).
    const logged = running.sidecar.logs.filter((line) => line.event === 'mirror_mismatch');
    assert.ok(logged.length >= 1 && logged.length <= Math.ceil(tally.spanMs / 1000) + 1, `${logged.length} mismatch log lines over ${tally.spanMs.toFixed(0)} ms`);
    assert.deepEqual(logged[0].paths, ['/level/tier']);
  });

  it('a candidate answering in 800 ms leaves callers p99 as without a mirror; copies beyond max_in_flight are dropped; in-flight copies survive a reload', async () => {
    candidate.delayMs = 800;
    const other = await sidecarOnRules(rules(old.port, candidate.port, ''), 'sluice-plain-');
    try {
      await running.reload(rules(old.port, candidate.port, MIRROR(8)));
      candidate.peakMirrored = 0;
      // Two rounds side by side, the same paced load on two sidecars at once, one with the mirror
      // and one without; the second round swaps them, so what differs between the two processes
      // (scheduling on a loaded machine) weighs on both sides alike.
      const reloaded = rules(old.port, candidate.port, `${MIRROR(8)}# reloaded\n`);
      const first = await sideBySide(running, other, reloaded);
      await running.reload(rules(old.port, candidate.port, ''));
      await other.reload(rules(old.port, candidate.port, MIRROR(8)));
      const second = await sideBySide(other, running, reloaded);
      const mirrored = [...first.mirrored, ...second.mirrored];
      const plain = [...first.plain, ...second.plain];
      const counts = {
        match: first.counts.match + second.counts.match,
        mismatch: first.counts.mismatch + second.counts.mismatch,
        error: first.counts.error + second.counts.error,
        dropped: first.counts.dropped + second.counts.dropped,
      };
      const answered = first.tally.answered + second.tally.answered;
      const failures = first.tally.failures.length + second.tally.failures.length + first.plainFailures + second.plainFailures;
      const non200 = mirrored.filter((a) => a.status !== 200).length + plain.filter((a) => a.status !== 200).length;
      const p99Mirrored = p99(mirrored);
      const p99Plain = p99(plain);
      console.log(
        `candidate at 800 ms, max_in_flight 8, 2 rounds of reads at 250/s on two sidecars (roles swapped): ` +
          `caller p99 ${p99Mirrored.toFixed(1)} ms with the mirror (${mirrored.length} reads; rounds ${p99(first.mirrored).toFixed(1)}, ` +
          `${p99(second.mirrored).toFixed(1)}), ${p99Plain.toFixed(1)} ms without (${plain.length} reads; rounds ` +
          `${p99(first.plain).toFixed(1)}, ${p99(second.plain).toFixed(1)}); failures ${failures}, non-200 ${non200}; ` +
          `copies: match ${counts.match}, mismatch ${counts.mismatch}, error ${counts.error}, dropped ${counts.dropped}; ` +
          `peak in flight ${Math.max(first.peak, second.peak)} (/admin/mirrors), ${candidate.peakMirrored} (seen by the candidate, across reloads)`,
      );
      assert.equal(failures, 0);
      assert.equal(non200, 0);
      // A few ms; on a machine so loaded that p99 is scheduling noise of hundreds of ms, 10% of it.
      const margin = Math.max(5, p99Plain * 0.1);
      assert.ok(p99Mirrored <= p99Plain + margin, `p99 with mirror ${p99Mirrored.toFixed(1)} ms vs ${p99Plain.toFixed(1)} ms without`);
      assert.ok(p99Mirrored < 800, 'callers never wait for the 800 ms candidate');
      assert.equal(counts.match + counts.mismatch + counts.error + counts.dropped, answered, 'every request copied or counted as dropped');
      assert.ok(counts.dropped > answered / 2, 'most copies dropped: 8 in flight at 800 ms each cannot follow 250/s');
      assert.ok(Math.max(first.peak, second.peak) <= 8, 'in flight never above max_in_flight');
      assert.ok(candidate.peakMirrored <= 8, `the candidate held ${candidate.peakMirrored} copies at once: max_in_flight broken across a reload`);
      assert.equal(counts.error, 0, 'copies within the candidate timeout are compared, not failed');
    } finally {
      candidate.delayMs = 0;
      await other.close();
    }
  });
});
