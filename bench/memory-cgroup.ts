// A memory cgroup with a hard limit, as a Kubernetes memory limit is one: for processes that should
// see the limit a pod gives them (Node sizes its heap from it at start). cgroup v1 (the memory
// hierarchy) or v2 (the unified one); creating one needs root.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  /** Write a pid here to move that process in. */
  readonly procsFile: string;
  /** Processes killed by the kernel's OOM killer in this cgroup so far. */
  oomKills(): number;
  /** Removes the cgroup; its processes must have exited. */
  remove(): void;
}

const V1 = '/sys/fs/cgroup/memory';
const V2 = '/sys/fs/cgroup';

/** A new cgroup named `name` limited to `limitBytes`, or why there cannot be one here. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup | string {
  try {
    if (existsSync(join(V1, 'memory.limit_in_bytes'))) {
      const dir = join(V1, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      // Where swap accounting is on, swap must not stretch the limit either.
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
      return cgroup(dir, () => field(join(dir, 'memory.oom_control'), 'oom_kill'));
    }
    if (readFileSync(join(V2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) {
      if (!readFileSync(join(V2, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('memory')) {
        writeFileSync(join(V2, 'cgroup.subtree_control'), '+memory');
      }
      const dir = join(V2, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'memory.max'), String(limitBytes));
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
      return cgroup(dir, () => field(join(dir, 'memory.events'), 'oom_kill'));
    }
    return 'no memory controller in /sys/fs/cgroup';
  } catch (err) {
    return `cannot create a memory cgroup (${err instanceof Error ? err.message : String(err)}); it needs root`;
  }
}

function cgroup(dir: string, oomKills: () => number): MemoryCgroup {
  return {
    procsFile: join(dir, 'cgroup.procs'),
    oomKills,
    remove() {
      try {
        rmdirSync(dir);
      } catch {
        // Still busy or already gone: the kernel frees an empty cgroup's memory either way.
      }
    },
  };
}

/** The number after `name` in a flat-keyed cgroup file ("oom_kill 2"); 0 when absent. */
function field(file: string, name: string): number {
  try {
    const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
    return match === null ? 0 : Number(match[1]);
  } catch {
    return 0;
  }
}

/** The command and arguments that run `command args` inside `group` (same pid: sh execs it). */
export function inCgroup(group: MemoryCgroup, command: string, args: readonly string[]): [string, string[]] {
  return ['sh', ['-c', `echo $$ > '${group.procsFile}' && exec "$0" "$@"`, command, ...args]];
}
