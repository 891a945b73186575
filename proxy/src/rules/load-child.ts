// The child process of load-isolated.ts: loads the rules at argv[2], sends the result, exits.
import { loadRules } from './load.ts';

const target = process.argv[2] ?? '';
loadRules(target).then(
  (result) => process.send?.(result, () => process.exit(0)),
  () => process.exit(1),
);
