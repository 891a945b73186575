// The child process of load-isolated.ts: loads the rules at argv[2], sends the result, exits.
import { writeFileSync } from 'node:fs';
import { loadRules } from './load.ts';

// In a pod at its memory limit the kernel kills the process it scores worst: let that be this
// short-lived parser, not the sidecar that forked it (which then refuses these rules and keeps
// serving with the ones in force). Raising one's own score needs no privilege; elsewhere, no-op.
try {
  writeFileSync('/proc/self/oom_score_adj', '1000');
} catch {
  // Not Linux, or /proc is not there: nothing to adjust.
}

const target = process.argv[2] ?? '';
loadRules(target).then(
  (result) => process.send?.(result, () => process.exit(0)),
  () => process.exit(1),
);
