// Where each traffic class goes: its cluster after `switch`, and its failover cluster (after
// `switch`) or none. Compiled once per policy; the request path only reads the result.
//
// A class with `failover: none` is isolated: its route has no second cluster, and a switch that
// would move it onto a cluster another class uses (home, switched or failover) is ignored, so the
// marketing class cannot reach primary whatever breaks and whatever is re-pointed.
import type { Rules } from '../rules/types.ts';

export interface ClassRoute {
  readonly className: string;
  /** Cluster the class is sent to while its breakers allow. */
  readonly primary: string;
  /** Cluster it may fail over to, or null (failover: none, or the same cluster as primary). */
  readonly failover: string | null;
  readonly isolated: boolean;
  /** Cluster a `split` sends its share to (after `switch`), or null when the class has no split. */
  readonly split: string | null;
}

export interface RouteTable {
  readonly routes: ReadonlyMap<string, ClassRoute>;
  /** Switch entries that were not applied, each one line, for the log and /admin/rules. */
  readonly warnings: readonly string[];
}

/**
 * Compiles the class routes. `switchMap` is the effective switch (the rules' own, or the one
 * posted to the admin API, which replaces it); each entry re-points one cluster, one step only.
 */
export function compileRoutes(rules: Rules, switchMap: ReadonlyMap<string, string> = rules.switch): RouteTable {
  const warnings: string[] = [];
  const switched = (cluster: string): string => {
    const target = switchMap.get(cluster);
    if (target === undefined || target === cluster) return cluster;
    if (!rules.clusters.has(target)) {
      warnings.push(`switch ${cluster} -> ${target} ignored: unknown cluster '${target}'`);
      return cluster;
    }
    return target;
  };

  const drafts = rules.classes.map((cls) => ({
    cls,
    primary: switched(cls.cluster),
    failover: cls.failover === null ? null : switched(cls.failover),
    split: cls.split == null ? null : cls.split.to,
  }));
  const routes = new Map<string, ClassRoute>();
  for (const { cls, primary, failover, split } of drafts) {
    const isolated = cls.failover === null;
    let target = primary;
    if (isolated && target !== cls.cluster) {
      const owner = firstOtherUser(drafts, cls.name, target);
      if (owner !== null) {
        warnings.push(
          `switch ${cls.cluster} -> ${target} not applied to class '${cls.name}': it has failover: none and '${target}' serves class '${owner}'`,
        );
        target = cls.cluster;
      }
    }
    routes.set(cls.name, {
      className: cls.name,
      primary: target,
      failover: failover === null || failover === target ? null : failover,
      isolated,
      split: split === null ? null : splitTarget(cls.name, split, target, isolated),
    });
  }
  return { routes, warnings };

  // The split target follows `switch` like the class's own cluster, under the same isolation rule.
  function splitTarget(className: string, to: string, home: string, isolated: boolean): string | null {
    const target = switched(to);
    if (isolated && target !== to) {
      const owner = firstOtherUser(drafts, className, target);
      if (owner !== null) {
        warnings.push(
          `switch ${to} -> ${target} not applied to the split of class '${className}': it has failover: none and '${target}' serves class '${owner}'`,
        );
        return to === home ? null : to;
      }
    }
    return target === home ? null : target;
  }
}

function firstOtherUser(
  drafts: readonly {
    cls: { name: string; cluster: string; failover: string | null };
    primary: string;
    failover: string | null;
    split: string | null;
  }[],
  self: string,
  cluster: string,
): string | null {
  for (const { cls, primary, failover, split } of drafts) {
    if (cls.name === self) continue;
    if (cls.cluster === cluster || primary === cluster || cls.failover === cluster || failover === cluster) return cls.name;
    if (split === cluster) return cls.name;
  }
  return null;
}
