// Process accounting from /proc (Linux): CPU time a process tree has used and its resident memory.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

function clockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/** Kernel clock ticks per second (getconf CLK_TCK, 100 on Linux). */
export const CLK_TCK = clockTicks();

interface StatFields {
  readonly ppid: number;
  /** utime + stime, clock ticks (fields 14 and 15 of /proc/PID/stat). */
  readonly ticks: number;
}

function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: split after its closing one.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** The pid and every live descendant: sidecars that fork helpers are charged for them too. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat === null) continue;
    const list = children.get(stat.ppid);
    if (list === undefined) children.set(stat.ppid, [pid]);
    else list.push(pid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** CPU time (user + system) used so far by the given processes, in microseconds. */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return (ticks * 1_000_000) / CLK_TCK;
}

/** Resident set size of the given processes, in kibibytes (VmRSS of /proc/PID/status). */
export function rssKiB(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match !== null) total += Number(match[1]);
    } catch {
      // The process has exited: it holds no memory.
    }
  }
  return total;
}
