#!/usr/bin/env node
// Entry point of the `sluice` command. Sources are TypeScript, run directly by Node >= 22.18.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `sluice needs Node.js >= 22.18 (the project targets Node 24 LTS); this is ${process.version}.\n` +
      'Run it through npm (npm start, npm run demo), which provides Node 24, or `source .ci/node-env.sh` first.\n',
  );
  process.exit(1);
}
// Type-stripped and compiled sources are cached on disk (NODE_COMPILE_CACHE, else the system's
// temporary directory): a restart finds them, never loads the TypeScript stripper and so holds
// ~30 MiB less for its whole life (see bench/README.md), and starts sooner.
const { enableCompileCache } = await import('node:module');
enableCompileCache();
const { main } = await import('../proxy/src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
