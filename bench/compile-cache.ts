// Every Node process of the bench shares one compile cache (NODE_COMPILE_CACHE), primed before
// anything is measured: each proxy then runs as it does after its first start, its sources
// already type-stripped and compiled, instead of carrying the TypeScript stripper (~30 MiB of
// RSS for sluice, ~16 MiB for the one-file plain peer) in whichever process happened to start
// first.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** What each TypeScript process of the bench loads: its entry modules, and sluice's lazy ones. */
const ENTRIES = [
  'bench/plain-proxy.ts',
  'bench/http-proxy-peer.ts',
  'proxy/src/cli/main.ts',
  'proxy/src/cli/start.ts',
  'proxy/src/tracing/otel-request-tracer.ts',
];

/** Points every child the bench starts from now on at one cache directory under `tmpDir`. */
export function shareCompileCache(tmpDir: string): string {
  const dir = join(tmpDir, 'compile-cache');
  process.env.NODE_COMPILE_CACHE = dir;
  return dir;
}

/**
 * Loads every entry once in a throwaway process and writes the cache. It runs with the proxies'
 * V8 flags: the cache is kept per set of flags, and another set would miss. The peers start
 * listening when loaded, so the process exits as soon as the cache is flushed.
 */
export function primeCompileCache(root: string, nodeFlags: readonly string[]): void {
  const script = `import { flushCompileCache } from 'node:module';
for (const file of ${JSON.stringify(ENTRIES.map((e) => join(root, e)))}) await import(file);
flushCompileCache();
process.exit(0);`;
  execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
}
