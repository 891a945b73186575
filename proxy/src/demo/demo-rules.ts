// The demo runs the sidecar with the example rules, copied to a temp directory and adjusted for one
// laptop: cluster endpoints point at the stand-in clusters, the global cap is lowered so a flood
// is visible at a few hundred requests per second, and the primary slowdown breaker recovers
// within the tour. Every adjustment is returned as a line the demo shows, so nothing is hidden.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { loadRules } from '../rules/load.ts';
import type { Rules } from '../rules/types.ts';
import { addLunchHour } from './lunch-hour.ts';

export const EXAMPLE_RULES_DIR = fileURLToPath(new URL('../../../rules/', import.meta.url));

/** Global cap in the demo's copy: low enough that marketing's share is reached on a laptop. */
export const DEMO_GLOBAL_RATE = 1000;
/** Longest a breaker stays open in the demo, so the tour shows it closing again. */
const DEMO_OPEN_FOR_MS = 4000;
const MIN_WINDOW_MS = 200;

export interface DemoRulesOptions {
  /** Cluster name → stand-in base URL. Clusters not named here are pointed at `fallbackUrl`. */
  readonly endpoints: ReadonlyMap<string, string>;
  readonly fallbackUrl: string;
  /** The demo's duration scale: below 1, breaker windows shrink with it. */
  readonly scale: number;
  /** Where the example rules are; defaults to the shipped rules/. */
  readonly source?: string;
}

export interface DemoRules {
  readonly dir: string;
  readonly rules: Rules;
  /** One line per adjustment made to the copy. */
  readonly notes: readonly string[];
  remove(): Promise<void>;
}

export async function prepareDemoRules(options: DemoRulesOptions): Promise<DemoRules> {
  const source = options.source ?? EXAMPLE_RULES_DIR;
  const dir = await mkdtemp(join(tmpdir(), 'sluice-demo-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const names = (await readdir(source)).filter((n) => /\.ya?ml$/.test(n)).sort();
    if (names.length === 0) throw new Error(`no rules files (*.yaml) in ${source}`);
    const notes: string[] = [];
    const docs = new Map<string, Document>();
    for (const name of names) docs.set(name, parseDocument(await readFile(join(source, name), 'utf8')));
    for (const doc of docs.values()) adjust(doc, options, notes);
    // A missing section is added to the first file (the main rules file sorts before callers.yaml
    // only by accident, so pick the one holding `clusters`).
    const main = [...docs.values()].find((d) => d.has('clusters')) ?? docs.values().next().value;
    if (main !== undefined) addMissing(main, [...docs.values()], notes);
    if (main !== undefined) addLunchHour(main, [...docs.values()], notes);
    for (const [name, doc] of docs) await writeFile(join(dir, name), doc.toString(), 'utf8');
    const loaded = await loadRules(dir);
    if (!loaded.ok) throw new Error(`the example rules do not load: ${loaded.errors[0] ?? 'unknown problem'}`);
    return { dir, rules: loaded.rules, notes, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

function adjust(doc: Document, options: DemoRulesOptions, notes: string[]): void {
  const clusters = doc.get('clusters');
  if (isMap(clusters)) {
    for (const pair of clusters.items) {
      const name = String((pair.key as { value?: unknown })?.value ?? pair.key);
      const url = options.endpoints.get(name) ?? options.fallbackUrl;
      doc.setIn(['clusters', name, 'endpoints'], doc.createNode([url], { flow: true }));
    }
    notes.push('clusters point at the stand-in member service on loopback');
  }
  const store = doc.get('store');
  if (isMap(store) && doc.getIn(['store', 'kind']) !== 'memory') {
    doc.setIn(['store', 'kind'], 'memory');
    doc.deleteIn(['store', 'url']);
    doc.deleteIn(['store', 'nodes']);
    notes.push('store: memory (the demo runs one sidecar, no Redis needed)');
  }
  const rate = doc.getIn(['limits', 'global', 'rate']);
  if (rate !== undefined) {
    const perSecond = ratePerSecond(String(rate));
    if (perSecond === null || perSecond > DEMO_GLOBAL_RATE) {
      doc.setIn(['limits', 'global', 'rate'], `${DEMO_GLOBAL_RATE}/s`);
      notes.push(`limits.global.rate ${String(rate)} → ${DEMO_GLOBAL_RATE}/s, so a flood of a few hundred requests/s reaches the class ceilings on a laptop`);
    }
  }
  const accounts = doc.getIn(['callers', 'accounts']);
  if (isSeq(accounts)) {
    const given: string[] = [];
    accounts.items.forEach((_, i) => {
      const perSecond = ratePerSecond(String(doc.getIn(['callers', 'accounts', i, 'quota']) ?? ''));
      if (perSecond === null || doc.hasIn(['callers', 'accounts', i, 'burst'])) return;
      const burst = Math.max(10, Math.ceil(perSecond / 10));
      doc.setIn(['callers', 'accounts', i, 'burst'], burst);
      given.push(`${String(doc.getIn(['callers', 'accounts', i, 'id']))} ${burst}`);
    });
    if (given.length > 0) {
      notes.push(
        `accounts without a burst get one (${given.join(', ')}): the demo's client sends in batches of up to 10, ` +
          'more than the default burst (a tenth of a second of the quota) of a small quota',
      );
    }
  }
  const degrade = doc.get('degrade');
  if (isSeq(degrade)) {
    degrade.items.forEach((_, i) => {
      const name = String(doc.getIn(['degrade', i, 'name']) ?? `#${i}`);
      const writtenOpenFor = doc.getIn(['degrade', i, 'open_for']);
      const openFor = writtenOpenFor === undefined ? null : durationMs(String(writtenOpenFor));
      const changes: string[] = [];
      let targetOpenFor = openFor === null || openFor > DEMO_OPEN_FOR_MS ? DEMO_OPEN_FOR_MS : openFor;
      if (options.scale < 1) {
        const window = durationMs(String(doc.getIn(['degrade', i, 'window']) ?? '1s')) ?? 1000;
        const scaled = Math.max(MIN_WINDOW_MS, Math.round(window * options.scale));
        if (scaled < window) {
          doc.setIn(['degrade', i, 'window'], `${scaled}ms`);
          changes.push(`window ${scaled}ms`);
          const minRequests = Number(doc.getIn(['degrade', i, 'min_requests']) ?? 0);
          if (minRequests > 0) {
            const scaledMin = Math.max(5, Math.round((minRequests * scaled) / window));
            doc.setIn(['degrade', i, 'min_requests'], scaledMin);
            changes.push(`min_requests ${scaledMin}`);
          }
        }
        targetOpenFor = Math.max(MIN_WINDOW_MS * 2, Math.round(targetOpenFor * options.scale));
      }
      if (openFor !== targetOpenFor) {
        doc.setIn(['degrade', i, 'open_for'], targetOpenFor % 1000 === 0 ? `${targetOpenFor / 1000}s` : `${targetOpenFor}ms`);
        changes.unshift(`open_for ${writtenOpenFor === undefined ? '(default)' : String(writtenOpenFor)} → ${targetOpenFor}ms`);
      }
      if (changes.length > 0) notes.push(`degrade ${name}: ${changes.join(', ')}, so the breaker trips and closes again within the tour`);
    });
  }
}

/** Sections a phase needs but the example rules lack. */
function addMissing(main: Document, all: readonly Document[], notes: string[]): void {
  const anyHas = (path: readonly string[]): boolean => all.some((d) => d.hasIn(path));
  if (!anyHas(['limits', 'global'])) {
    main.setIn(['limits', 'global'], main.createNode({ rate: `${DEMO_GLOBAL_RATE}/s`, scope: 'instance' }));
    notes.push(`added limits.global (${DEMO_GLOBAL_RATE}/s) for the marketing flood phase`);
  }
  if (!anyHas(['limits', 'hot_keys'])) {
    main.setIn(['limits', 'hot_keys'], main.createNode([{ name: 'member-id', key: 'path:/members/{id}', rate: '50/s' }]));
    notes.push('added limits.hot_keys member-id (50/s per member id) for the hot member phase');
  }
}

function ratePerSecond(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|min)\s*$/.exec(text);
  if (m === null) return null;
  return m[2] === 's' ? Number(m[1]) : Number(m[1]) / 60;
}

function durationMs(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$/.exec(text);
  if (m === null) return null;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}
