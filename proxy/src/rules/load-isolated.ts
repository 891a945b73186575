// Rules loading with bounded memory. A large rule set (10 000 accounts is ~2.3 MB of YAML) is
// parsed in a short-lived child process: the yaml parser needs ~170 MB of heap for such a file,
// and V8 keeps the pages it grew to for the life of the process, so the sidecar would sit at
// ~400 MB RSS for good (measured: 382 MB right after the parse, against ~130 MB steady state)
// where a child gives its memory back when it exits. The child sends the loaded rules back over
// IPC with V8 serialization (Maps intact). Small rule sets load in process as before: forking
// costs ~0.3 s and would gain nothing. A child that fails is not trusted with the answer either
// way: the rules are then loaded in process, unless it was killed by a signal. That is what an
// out-of-memory kill looks like (the kernel's SIGKILL in a pod at its limit, V8's abort at its heap
// limit), and loading the same rules in process would then take the sidecar down with it: the
// load is refused instead, so a reload keeps the rules in force and the sidecar serving. Either
// way the rules kept hold one copy of each repeated account value (shared-values.ts).
import { fork } from 'node:child_process';
import { getCompileCacheDir } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadRules } from './load.ts';
import { formatProblem } from './problems.ts';
import { withSharedValues } from './shared-values.ts';
import { readSources, type SourceFile } from './sources.ts';
import type { LoadResult } from './types.ts';

/** Above this many bytes of rules text, parse in a child process. */
export const ISOLATE_ABOVE_BYTES = 512 * 1024;
const CHILD_TIMEOUT_MS = 60_000;
const childModule = fileURLToPath(new URL('./load-child.ts', import.meta.url));

/** `childFlags`: Node flags of the child process (its own heap limit, say); the sidecar's by default. */
export async function loadRulesBounded(target: string, isolateAboveBytes = ISOLATE_ABOVE_BYTES, childFlags: readonly string[] = process.execArgv): Promise<LoadResult> {
  return withSharedValues(await load(target, isolateAboveBytes, childFlags));
}

async function load(target: string, isolateAboveBytes: number, childFlags: readonly string[]): Promise<LoadResult> {
  const sources = await readSources(target);
  let bytes = 0;
  if (sources.ok) for (const file of sources.files) bytes += file.text.length;
  if (!sources.ok || bytes <= isolateAboveBytes) return loadRules(target);
  const answer = await loadInChild(target, childFlags);
  if (answer === null) return loadRules(target);
  return typeof answer === 'string' ? killed(sources.files, bytes, answer) : answer;
}

/** The refusal of rules whose loader was killed by `signal`. */
function killed(files: readonly SourceFile[], bytes: number, signal: string): LoadResult {
  const largest = files.reduce((a, b) => (b.text.length > a.text.length ? b : a));
  const memory = signal === 'SIGKILL' || signal === 'SIGABRT';
  const message = `the rules loader process was killed by ${signal} while parsing ${mib(bytes)} MiB of rules`
    + (memory ? `, most likely out of memory (the largest file is ${mib(largest.text.length)} MiB, and parsing a file takes ~100 times its size at once): `
      + 'split callers.accounts over several files, each is parsed on its own, or allow the sidecar more memory' : '');
  return { ok: false, errors: [formatProblem({ at: { file: largest.display, line: 1, col: 1 }, path: null, message })], files: files.map((f) => f.absolute) };
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/** The child's answer; the signal that killed it; or null when it could not give one otherwise. */
function loadInChild(target: string, childFlags: readonly string[]): Promise<LoadResult | string | null> {
  return new Promise((resolve) => {
    let settled = false;
    // The child shares the sidecar's compile cache, so it starts without type-stripping its modules.
    const cacheDir = getCompileCacheDir();
    const env = cacheDir === undefined ? process.env : { ...process.env, NODE_COMPILE_CACHE: cacheDir };
    const child = fork(childModule, [target], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env, execArgv: [...childFlags] });
    const finish = (result: LoadResult | string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill();
      resolve(result);
    };
    const timer = setTimeout(() => finish(null), CHILD_TIMEOUT_MS);
    timer.unref();
    child.once('message', (message) => finish(message as LoadResult));
    child.once('error', () => finish(null));
    child.once('exit', (_code, signal) => finish(signal));
  });
}
