#!/usr/bin/env node
// Entry point of the `sluice` command. Sources are TypeScript run directly by Node >= 22.18.
import { main } from '../proxy/src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
