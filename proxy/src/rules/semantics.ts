// Checks the JSON Schema cannot express: names that must refer to something defined elsewhere,
// ids that must be unique across files, and the syntax of routes and hot keys. Runs on the
// merged document even when it has schema problems, so it reads every value defensively.

import { parseHotKeySpec } from './hot-key-spec.ts';
import { isPlainObject } from './merge.ts';
import { checkMirrors, checkSplits } from './migration-semantics.ts';
import type { Origins } from './origins.ts';
import { formatPosition, type KeyPath, type Problem } from './problems.ts';
import { parseRoutePattern } from './route-pattern.ts';
import { ROUTE_PATTERN } from './schema.ts';
import { DEFAULTS as ADAPTIVE_DEFAULTS } from './normalize.ts';
import { parseDuration } from './units.ts';

const ROUTE_SHAPE = new RegExp(ROUTE_PATTERN);

export function checkSemantics(doc: Record<string, unknown>, origins: Origins): Problem[] {
  const problems: Problem[] = [];
  const report = (path: KeyPath, message: string, atKey = false): void => {
    problems.push(origins.problem(path, message, atKey));
  };

  const clusters = mapOf(doc.clusters);
  const classes = mapOf(doc.classes);
  const clusterNames = Object.keys(clusters);
  const classNames = Object.keys(classes);
  const isCluster = (name: unknown): boolean => typeof name === 'string' && Object.hasOwn(clusters, name);
  const isClass = (name: unknown): boolean => typeof name === 'string' && Object.hasOwn(classes, name);
  const clusterHint = ` (clusters: ${clusterNames.join(', ') || 'none defined'})`;
  const classHint = ` (classes: ${classNames.join(', ') || 'none defined'})`;

  if (clusterNames.length === 0) report(['clusters'], 'at least one cluster is required', true);
  if (classNames.length === 0) report(['classes'], 'at least one class is required', true);
  if (Object.hasOwn(clusters, 'none')) report(['clusters', 'none'], "'none' is reserved (failover: none)", true);
  if (Object.hasOwn(classes, 'reject')) report(['classes', 'reject'], "'reject' is reserved (callers.unknown: reject)", true);

  for (const [name, cluster] of Object.entries(clusters)) {
    listOf(mapOf(cluster).endpoints).forEach((endpoint, i) => {
      if (typeof endpoint === 'string' && !validUrl(endpoint)) {
        report(['clusters', name, 'endpoints', i], 'is not a valid URL (check the host and the port, 1-65535)');
      }
    });
    const check = mapOf(mapOf(cluster).health_check);
    const interval = typeof check.interval === 'string' ? parseDuration(check.interval) : null;
    const timeout = typeof check.timeout === 'string' ? parseDuration(check.timeout) : null;
    if (interval !== null && timeout !== null && timeout >= interval) {
      report(['clusters', name, 'health_check', 'timeout'], `must be shorter than the interval (${check.interval})`);
    }
  }

  for (const [name, value] of Object.entries(classes)) {
    const cls = mapOf(value);
    if (typeof cls.cluster === 'string' && !isCluster(cls.cluster)) {
      report(['classes', name, 'cluster'], `unknown cluster '${cls.cluster}'${clusterHint}`);
    }
    if (typeof cls.failover === 'string' && cls.failover !== 'none') {
      const at = ['classes', name, 'failover'];
      if (!isCluster(cls.failover)) report(at, `unknown cluster '${cls.failover}': a cluster name or 'none'${clusterHint}`);
      else if (cls.failover === cls.cluster) report(at, "must differ from the class's cluster (or be 'none')");
    }
  }

  for (const [from, to] of Object.entries(mapOf(doc.switch))) {
    if (!isCluster(from)) report(['switch', from], `unknown cluster '${from}'${clusterHint}`, true);
    if (typeof to === 'string' && !isCluster(to)) report(['switch', from], `unknown cluster '${to}'${clusterHint}`);
    else if (to === from) report(['switch', from], 'a cluster cannot be switched to itself');
  }

  checkStore(mapOf(doc.store), report);
  checkServer(mapOf(doc.server), report);

  const callers = mapOf(doc.callers);
  const keyAuth = callers.auth === undefined || callers.auth === 'key';
  if (typeof callers.unknown === 'string' && callers.unknown !== 'reject' && !isClass(callers.unknown)) {
    report(['callers', 'unknown'], `must be 'reject' or a class name: unknown class '${callers.unknown}'${classHint}`);
  }
  const accountIds = new Unique(origins, report, 'account id');
  listOf(callers.accounts).forEach((value, i) => {
    const account = mapOf(value);
    const at: KeyPath = ['callers', 'accounts', i];
    if (typeof account.id === 'string') {
      accountIds.check(account.id, [...at, 'id']);
      if (account.id === 'unknown') report([...at, 'id'], "'unknown' is reserved for callers without an account");
    }
    if (typeof account.class === 'string' && !isClass(account.class)) {
      report([...at, 'class'], `unknown class '${account.class}'${classHint}`);
    }
    if (keyAuth && account.key_sha256 === undefined && isPlainObject(value)) {
      report(at, "missing required key 'key_sha256' (callers.auth is 'key')", true);
    }
    listOf(account.routes).forEach((route, r) => {
      // Routes failing the schema's coarse pattern are already reported.
      if (typeof route !== 'string' || !ROUTE_SHAPE.test(route)) return;
      const parsed = parseRoutePattern(route);
      if (!parsed.ok) report([...at, 'routes', r], parsed.error);
    });
  });

  const hotKeyNames = new Unique(origins, report, 'hot-key rule name');
  listOf(mapOf(doc.limits).hot_keys).forEach((value, i) => {
    const rule = mapOf(value);
    const at: KeyPath = ['limits', 'hot_keys', i];
    if (typeof rule.name === 'string') hotKeyNames.check(rule.name, [...at, 'name']);
    if (typeof rule.key === 'string') {
      const parsed = parseHotKeySpec(rule.key);
      if (!parsed.ok) report([...at, 'key'], parsed.error);
    }
  });

  checkAdaptive(listOf(mapOf(doc.limits).adaptive), { origins, report, isCluster, clusterHint });

  const degradeNames = new Unique(origins, report, 'degrade rule name');
  listOf(doc.degrade).forEach((value, i) => {
    const rule = mapOf(value);
    const at: KeyPath = ['degrade', i];
    if (typeof rule.name === 'string') degradeNames.check(rule.name, [...at, 'name']);
    if (typeof rule.cluster === 'string' && !isCluster(rule.cluster)) {
      report([...at, 'cluster'], `unknown cluster '${rule.cluster}'${clusterHint}`);
    }
  });

  const faultNames = new Unique(origins, report, 'fault name');
  listOf(doc.faults).forEach((value, i) => {
    const fault = mapOf(value);
    const at: KeyPath = ['faults', i];
    if (typeof fault.name === 'string') faultNames.check(fault.name, [...at, 'name']);
    if (fault.delay === undefined && fault.abort === undefined) report(at, 'needs delay or abort (or both)', true);
    if (typeof fault.cluster === 'string' && !isCluster(fault.cluster)) {
      report([...at, 'cluster'], `unknown cluster '${fault.cluster}'${clusterHint}`);
    }
    if (typeof fault.class === 'string' && !isClass(fault.class)) report([...at, 'class'], `unknown class '${fault.class}'${classHint}`);
    if (typeof fault.until === 'string' && Number.isNaN(Date.parse(fault.until))) report([...at, 'until'], 'is not a valid time');
  });

  const mirrorNames = new Unique(origins, report, 'mirror name');
  const migration = {
    classes,
    isCluster,
    clusterHint,
    report,
    uniqueMirrorName: (name: string, path: KeyPath) => mirrorNames.check(name, path),
  };
  checkSplits(migration);
  checkMirrors(doc.mirrors, migration);

  return problems;
}

type Report = (path: KeyPath, message: string, atKey?: boolean) => void;

interface ClusterCheck {
  readonly origins: Origins;
  readonly report: Report;
  isCluster(name: unknown): boolean;
  readonly clusterHint: string;
}

/** limits.adaptive: a known cluster, at most one entry each, min_limit ≤ initial_limit ≤ max_limit. */
function checkAdaptive(entries: readonly unknown[], { origins, report, isCluster, clusterHint }: ClusterCheck): void {
  const clusters = new Unique(origins, report, 'adaptive limit for cluster');
  entries.forEach((value, i) => {
    const rule = mapOf(value);
    const at: KeyPath = ['limits', 'adaptive', i];
    if (typeof rule.cluster === 'string') {
      if (!isCluster(rule.cluster)) report([...at, 'cluster'], `unknown cluster '${rule.cluster}'${clusterHint}`);
      else clusters.check(rule.cluster, [...at, 'cluster']);
    }
    // Defaults as normalize.ts fills them; only whole numbers are compared (the schema reports the rest).
    const whole = (key: string, fallback: number): number | null => {
      const v = rule[key] ?? fallback;
      return Number.isInteger(v) ? (v as number) : null;
    };
    const min = whole('min_limit', ADAPTIVE_DEFAULTS.minLimit);
    const initial = whole('initial_limit', ADAPTIVE_DEFAULTS.initialLimit);
    const max = whole('max_limit', ADAPTIVE_DEFAULTS.maxLimit);
    if (min !== null && max !== null && min > max) {
      report([...at, rule.min_limit !== undefined ? 'min_limit' : 'max_limit'], `min_limit (${min}) must not exceed max_limit (${max})`);
    } else if (min !== null && initial !== null && initial < min) {
      report([...at, rule.initial_limit !== undefined ? 'initial_limit' : 'min_limit'], `initial_limit (${initial}) must be at least min_limit (${min})`);
    } else if (max !== null && initial !== null && initial > max) {
      report([...at, rule.initial_limit !== undefined ? 'initial_limit' : 'max_limit'], `initial_limit (${initial}) must not exceed max_limit (${max})`);
    }
  });
}

function checkStore(store: Record<string, unknown>, report: Report): void {
  if (store.kind === 'redis' && store.url === undefined) {
    report(['store'], "kind 'redis' needs url (e.g. redis://127.0.0.1:6379)", true);
  }
  if (store.kind === 'redis-cluster' && store.nodes === undefined) {
    report(['store'], "kind 'redis-cluster' needs nodes (e.g. [10.0.0.1:6379, 10.0.0.2:6379])", true);
  }
  listOf(store.nodes).forEach((node, i) => {
    if (typeof node === 'string' && !validPort(node)) report(['store', 'nodes', i], 'port must be 1-65535');
  });
}

function checkServer(server: Record<string, unknown>, report: Report): void {
  for (const key of ['listen', 'admin']) {
    const address = server[key];
    if (typeof address === 'string' && !validPort(address)) report(['server', key], 'port must be 1-65535');
  }
  // 0 would switch the bound off (a slowloris holds connections forever); past a minute it is no bound.
  const timeout = typeof server.headers_timeout === 'string' ? parseDuration(server.headers_timeout) : null;
  if (timeout !== null && (timeout < 100 || timeout > 60_000)) report(['server', 'headers_timeout'], 'must be between 100ms and 1m');
}

/** Reports the second and later uses of an id, naming where it was first defined. */
class Unique {
  readonly #first = new Map<string, KeyPath>();
  readonly #origins: Origins;
  readonly #report: Report;
  readonly #what: string;

  constructor(origins: Origins, report: Report, what: string) {
    this.#origins = origins;
    this.#report = report;
    this.#what = what;
  }

  check(id: string, path: KeyPath): void {
    const first = this.#first.get(id);
    if (first === undefined) {
      this.#first.set(id, path);
      return;
    }
    this.#report(path, `duplicate ${this.#what} '${id}' (first at ${formatPosition(this.#origins.locate(first))})`);
  }
}

function validPort(hostPort: string): boolean {
  const port = Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

function validUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.hostname !== '' && (url.port === '' || validPort(`:${url.port}`));
  } catch {
    return false;
  }
}

function mapOf(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : {};
}

function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}
