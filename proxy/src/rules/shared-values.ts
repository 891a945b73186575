// Accounts repeat a handful of owners, teams, scenarios, classes, quotas and route lists, and the
// parser (and the IPC from the loader child, which copies every string) gives each account its own
// copies: with 10 000 accounts, ~2.4 MiB of the sidecar's live heap (a heap snapshot of the loaded
// bench). The rules kept in force hold one copy of each value instead.
import type { AccountRules, LoadResult, Rate } from './types.ts';

export function withSharedValues(result: LoadResult): LoadResult {
  if (!result.ok) return result;
  const strings = new Map<string, string>();
  const rates = new Map<string, Rate>();
  const routeLists = new Map<string, readonly string[]>();
  const text = (value: string): string => shared(strings, value, value);
  const accounts = result.rules.callers.accounts.map((a): AccountRules => ({
    ...a,
    owner: text(a.owner),
    team: text(a.team),
    scenario: text(a.scenario),
    class: text(a.class),
    // A rate is parsed from its text: the same text is the same rate.
    quota: a.quota === null ? null : shared(rates, a.quota.text, a.quota),
    routes: a.routes === null ? null : shared(routeLists, a.routes.join('\n'), a.routes),
  }));
  return { ...result, rules: { ...result.rules, callers: { ...result.rules.callers, accounts } } };
}

/** The value kept under `key`, or `value`, kept from now on. */
function shared<V>(kept: Map<string, V>, key: string, value: V): V {
  const found = kept.get(key);
  if (found !== undefined) return found;
  kept.set(key, value);
  return value;
}
