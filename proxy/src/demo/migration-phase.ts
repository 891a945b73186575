// The migration cut-over phase (README "Migration cut-over"): a stand-in "new store" with a few
// members wrong joins the rules as cluster mysql-new; the tour rewrites the rules file to split
// order reads onto it 1% → 10% → 50% by member id (each step a hot reload), while a mirror copies
// the reads left on primary to mysql-new and compares the answers. After the phase the rules are
// put back as they were and the new store is stopped.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { parseDocument } from 'yaml';
import { MemberCluster } from './member-service.ts';
import type { Phase, PhaseControl } from './phases.ts';
import type { StreamSpec } from './traffic.ts';

export const NEW_STORE = 'mysql-new';
export const MIRROR_NAME = 'mysql-check';
export const SPLIT_STEPS: readonly number[] = [1, 10, 50];
/** The new store has every fifth member's level wrong. */
export const SKEWED_EVERY = 5;
const ORDER_READS = 150;
const RELOAD_WAIT_MS = 5000;

/** Reads of member profiles by id: the sticky key of the split. */
const orderReads: StreamSpec = {
  label: 'order-center',
  account: 'order-center',
  rate: ORDER_READS,
  request: (n) => ({ method: 'GET', path: `/members/${100_000 + ((n * 7919) % 900_000)}` }),
};

export function migrationPhase(): Phase {
  return {
    title: 'Migration cut-over',
    explain:
      `the member store moves to a new cluster, ${NEW_STORE}, which has every ${SKEWED_EVERY}th member's level wrong. ` +
      `The tour rewrites the rules to split order reads onto it ${SPLIT_STEPS.map((p) => `${p}%`).join(' → ')} by member id ` +
      `(a hot reload each step; an id once moved stays moved), while mirror ${MIRROR_NAME} copies the reads left on primary ` +
      'to the new store and compares the answers: mismatches are counted and named by JSON path, never by member.',
    seconds: 10,
    streams: [orderReads],
    script: cutOver,
  };
}

async function cutOver(control: PhaseControl): Promise<void> {
  const { rulesDir, adminUrl } = control;
  if (rulesDir === undefined || adminUrl === undefined) return;
  const store = await MemberCluster.start(NEW_STORE);
  store.skewLevelEvery = SKEWED_EVERY;
  const admin = new Pool(adminUrl, { connections: 1, headersTimeout: 2000, bodyTimeout: 2000 });
  const main = await mainRulesFile(rulesDir);
  const original = await readFile(main, 'utf8');
  try {
    const stepMs = control.durationMs / SPLIT_STEPS.length;
    for (const percent of SPLIT_STEPS) {
      if (control.signal.aborted) break;
      const stepStart = performance.now();
      const tookMs = await rewrite(main, withMigration(original, store.url, percent), admin);
      control.event(`rules rewritten: split order → ${NEW_STORE} at ${percent}% (in force after ${tookMs.toFixed(0)} ms)`);
      const before = await splitCounts(admin);
      const rest = stepMs - (performance.now() - stepStart);
      if (rest > 0) await sleep(rest, undefined, { signal: control.signal }).catch(() => undefined);
      const after = await splitCounts(admin);
      const moved = after.moved - before.moved;
      const all = moved + after.home - before.home;
      control.event(`  ${all === 0 ? 0 : ((100 * moved) / all).toFixed(1)}% of this step's ${all} order reads went to ${NEW_STORE}`);
      control.event(`  ${await mirrorLine(admin)}`);
    }
  } finally {
    await rewrite(main, original, admin).catch(() => undefined);
    control.event(`rules restored: no split, no mirror; ${NEW_STORE} stopped`);
    await admin.destroy();
    await store.close();
  }
}

/** The rules file holding `classes` (the main one). */
async function mainRulesFile(dir: string): Promise<string> {
  for (const name of (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const path = join(dir, name);
    if (parseDocument(await readFile(path, 'utf8')).has('classes')) return path;
  }
  throw new Error(`no rules file with classes in ${dir}`);
}

function withMigration(text: string, storeUrl: string, percent: number): string {
  const doc = parseDocument(text);
  doc.setIn(['clusters', NEW_STORE], doc.createNode({ endpoints: [storeUrl], timeout: '2s' }, { flow: true }));
  doc.setIn(['classes', 'order', 'split'], doc.createNode({ to: NEW_STORE, percent, sticky: 'path:/members/{id}' }, { flow: true }));
  doc.set(
    'mirrors',
    doc.createNode([{ name: MIRROR_NAME, from: 'primary', to: NEW_STORE, compare: { ignore: ['/served_by'] }, max_in_flight: 64 }]),
  );
  return doc.toString();
}

/** Replaces the file (written aside, renamed over) and waits for the new version; answers ms. */
async function rewrite(file: string, text: string, admin: Pool): Promise<number> {
  const before = await rulesVersion(admin);
  const started = performance.now();
  const aside = `${file}.next`;
  await writeFile(aside, text, 'utf8');
  await rename(aside, file);
  while (performance.now() - started < RELOAD_WAIT_MS) {
    if ((await rulesVersion(admin)) !== before) break;
    await sleep(20);
  }
  return performance.now() - started;
}

async function rulesVersion(admin: Pool): Promise<string | null> {
  const { body } = await admin.request({ method: 'GET', path: '/admin/rules' });
  return ((await body.json()) as { version?: string | null }).version ?? null;
}

/** sluice_split_requests_total of the order class: to the new store, and to its own cluster. */
async function splitCounts(admin: Pool): Promise<{ moved: number; home: number }> {
  const { body } = await admin.request({ method: 'GET', path: '/metrics' });
  const text = await body.text();
  const value = (cluster: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`sluice_split_requests_total{class="order",cluster="${cluster}"}`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return { moved: value(NEW_STORE), home: value('primary') };
}

interface MirrorView {
  readonly name: string;
  readonly counts: { match: number; mismatch: number; error: number; dropped: number };
  readonly recent_mismatches: readonly { route: string; paths: readonly string[] }[];
}

async function mirrorLine(admin: Pool): Promise<string> {
  const { body } = await admin.request({ method: 'GET', path: '/admin/mirrors' });
  const mirror = ((await body.json()) as { mirrors: MirrorView[] }).mirrors.find((m) => m.name === MIRROR_NAME);
  if (mirror === undefined) return `mirror ${MIRROR_NAME}: not in force`;
  const c = mirror.counts;
  const where = [...new Set(mirror.recent_mismatches.map((m) => `${m.route} ${m.paths.join(',')}`))].slice(0, 3);
  return (
    `mirror ${MIRROR_NAME}: ${c.match} match, ${c.mismatch} mismatch, ${c.error} error, ${c.dropped} dropped` +
    (where.length === 0 ? '' : `; differing: ${where.join('; ')}`)
  );
}
