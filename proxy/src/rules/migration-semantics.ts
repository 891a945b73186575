// Semantic checks of the migration rules (SPEC §12): a class's `split` and the `mirrors` list.
// Cross-references the schema cannot express, and isolation: a class with `failover: none` may
// only split to a cluster no other class uses (home, failover or split), and no other class may
// split onto the cluster of a class with `failover: none`.
import { parseHotKeySpec } from './hot-key-spec.ts';
import { isPlainObject } from './merge.ts';
import type { KeyPath } from './problems.ts';

type Report = (path: KeyPath, message: string, atKey?: boolean) => void;

export interface MigrationCheckContext {
  readonly classes: Record<string, unknown>;
  readonly isCluster: (name: unknown) => boolean;
  readonly clusterHint: string;
  readonly report: Report;
  /** Reports a second use of a mirror name, naming the first. */
  readonly uniqueMirrorName: (name: string, path: KeyPath) => void;
}

export function checkSplits(check: MigrationCheckContext): void {
  const { classes, isCluster, clusterHint, report } = check;
  for (const [name, value] of Object.entries(classes)) {
    const cls = mapOf(value);
    const split = mapOf(cls.split);
    const at: KeyPath = ['classes', name, 'split'];
    if (typeof split.sticky === 'string') {
      const parsed = parseHotKeySpec(split.sticky);
      if (!parsed.ok) report([...at, 'sticky'], parsed.error.replace(/^hot key/, 'sticky key'));
    }
    const to = split.to;
    if (typeof to !== 'string') continue;
    if (!isCluster(to)) {
      report([...at, 'to'], `unknown cluster '${to}'${clusterHint}`);
      continue;
    }
    if (to === cls.cluster) {
      report([...at, 'to'], "must differ from the class's cluster");
      continue;
    }
    if (isIsolated(cls)) {
      const owner = otherUser(classes, name, to);
      if (owner !== null) {
        report(
          [...at, 'to'],
          `class '${name}' has failover: none: it may only split to a cluster no other class uses ('${to}' serves class '${owner}')`,
        );
      }
      continue;
    }
    // Nor may another class's split bring its traffic onto an isolated class's cluster.
    const isolatedOwner = isolatedUser(classes, name, to);
    if (isolatedOwner !== null) {
      report([...at, 'to'], `'${to}' serves class '${isolatedOwner}', which has failover: none: no other class may split onto it`);
    }
  }
}

export function checkMirrors(mirrors: unknown, check: MigrationCheckContext): void {
  const { isCluster, clusterHint, report } = check;
  const copiedFrom = new Map<string, string>();
  listOf(mirrors).forEach((value, i) => {
    const mirror = mapOf(value);
    const at: KeyPath = ['mirrors', i];
    if (typeof mirror.name === 'string') check.uniqueMirrorName(mirror.name, [...at, 'name']);
    if (typeof mirror.from === 'string') {
      // One tap per caller's answer: a second candidate is a second sidecar, or a later step.
      const first = copiedFrom.get(mirror.from);
      if (first !== undefined) report([...at, 'from'], `cluster '${mirror.from}' is already mirrored by '${first}' (one mirror per cluster)`);
      else copiedFrom.set(mirror.from, typeof mirror.name === 'string' ? mirror.name : String(i));
    }
    for (const key of ['from', 'to'] as const) {
      const cluster = mirror[key];
      if (typeof cluster === 'string' && !isCluster(cluster)) report([...at, key], `unknown cluster '${cluster}'${clusterHint}`);
    }
    if (typeof mirror.to === 'string' && mirror.to === mirror.from) report([...at, 'to'], "must differ from 'from'");
  });
}

function isIsolated(cls: Record<string, unknown>): boolean {
  return cls.failover === undefined || cls.failover === 'none';
}

/** The first isolated class other than `self` whose home or split target is `cluster`. */
function isolatedUser(classes: Record<string, unknown>, self: string, cluster: string): string | null {
  for (const [name, value] of Object.entries(classes)) {
    if (name === self) continue;
    const cls = mapOf(value);
    if (isIsolated(cls) && (cls.cluster === cluster || mapOf(cls.split).to === cluster)) return name;
  }
  return null;
}

/** The first class other than `self` that uses `cluster` as home, failover or split target. */
function otherUser(classes: Record<string, unknown>, self: string, cluster: string): string | null {
  for (const [name, value] of Object.entries(classes)) {
    if (name === self) continue;
    const cls = mapOf(value);
    if (cls.cluster === cluster || cls.failover === cluster || mapOf(cls.split).to === cluster) return name;
  }
  return null;
}

function mapOf(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}
