// Whole process: a mirror copies member reads to the candidate store and compares the answers,
// never touching what the caller gets; a slow candidate costs callers nothing and excess copies
// are dropped, not queued. Side by side: in the same sidecar, at the same time, the order class
// reads through a mirrored cluster and the booking class through a cluster on the same store
// that is not mirrored, so a loaded machine's scheduling weighs on both alike.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { adminJson, metricsText, metricValue } from '../helpers/admin.ts';
import { runLoad, type Answer } from '../helpers/load.ts';
import { CAPTURE_LIMIT } from '../../src/upstream/body-capture.ts';
import { HISTORY_ENTRIES, startMemberStore, type MemberStore } from '../helpers/member-stores.ts';
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
  sqlserver-unmirrored: { endpoints: ["http://127.0.0.1:${oldPort}"], timeout: 2s }
  mysql-new: { endpoints: ["http://127.0.0.1:${newPort}"], timeout: ${newTimeout} }
classes:
  order: { cluster: sqlserver }
  booking: { cluster: sqlserver-unmirrored }
callers:
  auth: trust
  accounts:
    - { id: order-center, owner: Li Wei, team: order-platform, scenario: Load member profile, class: order }
    - { id: booking-app, owner: Zhang Min, team: hotel-booking, scenario: Member price at checkout, class: booking }
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
const BOOKING = { 'x-caller-account': 'booking-app' };

async function mirrorView(running: RulesDirSidecar): Promise<MirrorView> {
  const view = await adminJson<{ mirrors: MirrorView[] }>(running.sidecar, '/admin/mirrors');
  return view.mirrors[0];
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
    running = await sidecarOnRules(rules(old.port, candidate.port, MIRROR(64)));
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

  it('answers above the capture limit are compared by digest while they stream, and reach callers whole', async () => {
    const before = (await mirrorView(running)).counts;
    const ids = Array.from({ length: 20 }, (_, i) => 90_001 + i); // 90010 and 90020 differ
    const sizes: number[] = [];
    for (const id of ids) {
      const res = await fetch(`${running.sidecar.url}/members/${id}/history`, { headers: ORDER });
      const body = await res.text();
      assert.equal(res.status, 200);
      const parsed = JSON.parse(body) as { entries: { points: number }[] };
      assert.equal(parsed.entries.length, HISTORY_ENTRIES);
      assert.notEqual(parsed.entries.at(-1)?.points, -1, 'the caller got the old store\'s answer');
      sizes.push(body.length);
    }
    const view = await waitFor(
      async () => {
        const v = await mirrorView(running);
        const done = v.counts.match + v.counts.mismatch + v.counts.error - before.match - before.mismatch - before.error;
        return done === ids.length ? v : null;
      },
      { timeoutMs: 10_000, message: 'every large copy compared' },
    );
    const counts = { match: view.counts.match - before.match, mismatch: view.counts.mismatch - before.mismatch };
    console.log(
      `${ids.length} answers of ${Math.round(sizes[0] / 1024)} KiB (capture limit ${CAPTURE_LIMIT / 1024} KiB): match ${counts.match}, ` +
        `mismatch ${counts.mismatch}, compared as ${view.recent_mismatches[0].compared}`,
    );
    assert.ok(sizes.every((size) => size > CAPTURE_LIMIT));
    assert.deepEqual(counts, { match: 18, mismatch: 2 });
    assert.equal(view.recent_mismatches[0].compared, 'sha256');
    assert.equal(view.recent_mismatches[0].route, '/members/{id}/history');
    assert.deepEqual(view.recent_mismatches[0].paths, []);
  });

  it('HEAD reads are copied and compared by status; requests with a body or another method are never copied', async () => {
    const before = (await mirrorView(running)).counts;
    const copiesBefore = candidate.mirrored.length;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${running.sidecar.url}/members/${95_000 + i}`, { method: 'HEAD', headers: ORDER });
      assert.equal(res.status, 200);
    }
    const posted = await fetch(`${running.sidecar.url}/members/95100/points`, { method: 'POST', headers: ORDER, body: '{"points":5}' });
    assert.equal(posted.status, 200);
    await posted.text();
    const view = await waitFor(
      async () => {
        const v = await mirrorView(running);
        return v.counts.match - before.match === 5 ? v : null;
      },
      { timeoutMs: 10_000, message: 'the HEAD copies compared' },
    );
    assert.equal(view.counts.mismatch - before.mismatch, 0);
    assert.equal(view.counts.dropped - before.dropped, 0);
    assert.deepEqual(candidate.mirrored.slice(copiesBefore).sort(), ['95000', '95001', '95002', '95003', '95004']);
  });

  it('a candidate answering in 800 ms leaves callers p99 as without a mirror; copies beyond max_in_flight are dropped; in-flight copies survive a reload', async () => {
    candidate.delayMs = 800;
    try {
      await running.reload(rules(old.port, candidate.port, MIRROR(8)));
      const before = (await mirrorView(running)).counts;
      const copiesBefore = candidate.mirrored.length;
      candidate.peakMirrored = 0;
      let peak = 0;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          peak = Math.max(peak, (await mirrorView(running)).in_flight);
          await delay(25);
        }
      })();
      // The same paced load on the mirrored and on the unmirrored cluster, at once.
      const load = (headers: Record<string, string>, into: Answer[]) =>
        runLoad(running.sidecar.url, {
          connections: 8,
          durationMs: 5000,
          maxRequests: 1250,
          ratePerSecond: 250,
          request: (i) => ({ path: `/members/${80_000 + i}`, headers }),
          onAnswer: (a) => into.push(a),
        });
      const answers = { mirrored: [] as Answer[], plain: [] as Answer[] };
      const mirroredLoad = load(ORDER, answers.mirrored);
      const plainLoad = load(BOOKING, answers.plain);
      // A reload that leaves the mirror unchanged, mid-load: its in-flight count carries over.
      await running.reload(rules(old.port, candidate.port, `${MIRROR(8)}# reloaded\n`));
      const [mirroredTally, plainTally] = await Promise.all([mirroredLoad, plainLoad]);
      const after = await waitFor(
        async () => {
          const v = await mirrorView(running);
          return v.in_flight === 0 ? v : null;
        },
        { timeoutMs: 10_000, message: 'the last copies to finish' },
      );
      polling = false;
      await poll;
      const counts = {
        match: after.counts.match - before.match,
        mismatch: after.counts.mismatch - before.mismatch,
        error: after.counts.error - before.error,
        dropped: after.counts.dropped - before.dropped,
      };
      const copied = new Set(candidate.mirrored.slice(copiesBefore));
      const copiedMs = answers.mirrored
        .filter((a) => copied.has(String(80_000 + a.index)))
        .map((a) => a.answeredAt - a.sentAt)
        .sort((x, y) => x - y);
      const copiedMedian = copiedMs[Math.floor(copiedMs.length / 2)] ?? 0;
      const p99Mirrored = p99(answers.mirrored);
      const p99Plain = p99(answers.plain);
      const non200 = [...answers.mirrored, ...answers.plain].filter((a) => a.status !== 200).length;
      console.log(
        `candidate at 800 ms, max_in_flight 8, reads at 250/s on a mirrored and an unmirrored cluster at once: caller p99 ` +
          `${p99Mirrored.toFixed(1)} ms with the mirror (${answers.mirrored.length} reads), ${p99Plain.toFixed(1)} ms without ` +
          `(${answers.plain.length} reads); failures ${mirroredTally.failures.length + plainTally.failures.length}, non-200 ${non200}; ` +
          `copies: match ${counts.match}, mismatch ${counts.mismatch}, error ${counts.error}, dropped ${counts.dropped}; ` +
          `peak in flight ${peak} (/admin/mirrors), ${candidate.peakMirrored} (seen by the candidate, across a reload); ` +
          `the ${copiedMs.length} copied requests were answered in ${copiedMedian.toFixed(1)} ms (median), ` +
          `${(copiedMs.at(-1) ?? 0).toFixed(1)} ms (max)`,
      );
      assert.equal(mirroredTally.failures.length + plainTally.failures.length, 0);
      assert.equal(non200, 0);
      assert.ok(p99Mirrored <= p99Plain + 5, `p99 with mirror ${p99Mirrored.toFixed(1)} ms vs ${p99Plain.toFixed(1)} ms without`);
      // The requests that were copied were answered without waiting for their copy's 800 ms.
      assert.equal(copiedMs.length, counts.match + counts.mismatch + counts.error);
      assert.ok(copiedMedian < 400, `copied requests answered in ${copiedMedian.toFixed(1)} ms (median): callers waited for the candidate`);
      assert.equal(counts.match + counts.mismatch + counts.error + counts.dropped, mirroredTally.answered, 'every request copied or counted as dropped');
      assert.ok(counts.dropped > mirroredTally.answered / 2, 'most copies dropped: 8 in flight at 800 ms each cannot follow 250/s');
      assert.ok(peak <= 8, `in flight peaked at ${peak}`);
      assert.ok(candidate.peakMirrored <= 8, `the candidate held ${candidate.peakMirrored} copies at once: max_in_flight broken across the reload`);
      assert.equal(counts.error, 0, 'copies within the candidate timeout are compared, not failed');
    } finally {
      candidate.delayMs = 0;
    }
  });
});
