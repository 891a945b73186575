// Preloaded into a sidecar process (NODE_OPTIONS=--import=...): appends the URL of every module
// the process resolves to the file named by SLUICE_TEST_LOADS_FILE, so a test can tell what a
// configuration loads and what it never touches.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.SLUICE_TEST_LOADS_FILE;
if (file !== undefined) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      appendFileSync(file, `${resolved.url}\n`);
      return resolved;
    },
  });
}
