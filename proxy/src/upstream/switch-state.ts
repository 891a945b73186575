// Emergency re-pointing of clusters (`switch`): the rules' map, overlaid by one posted to the
// admin API (instance-local, or received from the fleet through the store's bus).

export interface SwitchOrigin {
  /** 'rules', 'admin' (posted here) or 'fleet' (posted to another sidecar and broadcast). */
  readonly source: 'rules' | 'admin' | 'fleet';
  /** Instance that posted it, for 'admin' and 'fleet'. */
  readonly instance: string | null;
  readonly at: string | null;
}

export class SwitchState {
  private override: ReadonlyMap<string, string> | null = null;
  origin: SwitchOrigin = { source: 'rules', instance: null, at: null };

  /** The effective map given the rules' own switch. */
  effective(rulesSwitch: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
    return this.override ?? rulesSwitch;
  }

  get overridden(): boolean {
    return this.override !== null;
  }

  set(map: ReadonlyMap<string, string>, origin: SwitchOrigin): void {
    this.override = map;
    this.origin = origin;
  }

  clear(origin: SwitchOrigin): void {
    this.override = null;
    this.origin = { source: 'rules', instance: origin.instance, at: origin.at };
  }
}

/** Parses a posted switch body: a JSON object of cluster → cluster. Answers an error line or the map. */
export function parseSwitchBody(body: string, clusters: ReadonlySet<string>): ReadonlyMap<string, string> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'body must be a JSON object like {"primary":"backup"}';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return 'body must be a JSON object like {"primary":"backup"}';
  }
  const map = new Map<string, string>();
  for (const [from, to] of Object.entries(parsed)) {
    if (typeof to !== 'string') return `switch.${from}: must be a cluster name`;
    if (!clusters.has(from)) return `switch.${from}: unknown cluster '${from}'`;
    if (!clusters.has(to)) return `switch.${from}: unknown cluster '${to}'`;
    map.set(from, to);
  }
  return map;
}
