// Rules loading with bounded memory. A large rule set (10 000 accounts is ~2.3 MB of YAML) is
// parsed in a short-lived child process: the yaml parser needs ~170 MB of heap for such a file,
// and V8 keeps the pages it grew to for the life of the process, so the sidecar would sit at
// ~400 MB RSS for good (measured: 382 MB right after the parse, against ~130 MB steady state)
// where a child gives its memory back when it exits. The child sends the loaded rules back over
// IPC with V8 serialization (Maps intact). Small rule sets load in process as before: forking
// costs ~0.3 s and would gain nothing. A child that fails is not trusted with the answer either
// way: the rules are then loaded in process.
import { fork } from 'node:child_process';
import { getCompileCacheDir } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadRules } from './load.ts';
import { readSources } from './sources.ts';
import type { LoadResult } from './types.ts';

/** Above this many bytes of rules text, parse in a child process. */
export const ISOLATE_ABOVE_BYTES = 512 * 1024;
const CHILD_TIMEOUT_MS = 60_000;
const childModule = fileURLToPath(new URL('./load-child.ts', import.meta.url));

export async function loadRulesBounded(target: string, isolateAboveBytes = ISOLATE_ABOVE_BYTES): Promise<LoadResult> {
  const sources = await readSources(target);
  let bytes = 0;
  if (sources.ok) for (const file of sources.files) bytes += file.text.length;
  if (!sources.ok || bytes <= isolateAboveBytes) return loadRules(target);
  return (await loadInChild(target)) ?? loadRules(target);
}

/** The child's answer, or null when it could not give one. */
function loadInChild(target: string): Promise<LoadResult | null> {
  return new Promise((resolve) => {
    let settled = false;
    // The child shares the sidecar's compile cache, so it starts without type-stripping its modules.
    const cacheDir = getCompileCacheDir();
    const env = cacheDir === undefined ? process.env : { ...process.env, NODE_COMPILE_CACHE: cacheDir };
    const child = fork(childModule, [target], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env });
    const finish = (result: LoadResult | null): void => {
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
    child.once('exit', () => finish(null));
  });
}
