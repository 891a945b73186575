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
  const text = (value: string): string => {
    const kept = strings.get(value);
    if (kept !== undefined) return kept;
    strings.set(value, value);
    return value;
  };
  const rate = (value: Rate | null): Rate | null => {
    if (value === null) return null;
    const kept = rates.get(value.text);
    if (kept !== undefined && kept.perSecond === value.perSecond) return kept;
    rates.set(value.text, value);
    return value;
  };
  const routes = (value: readonly string[] | null): readonly string[] | null => {
    if (value === null) return null;
    const key = value.join('\n');
    const kept = routeLists.get(key);
    if (kept !== undefined) return kept;
    const list = value.map(text);
    routeLists.set(key, list);
    return list;
  };
  const accounts = result.rules.callers.accounts.map((a): AccountRules => ({
    ...a,
    owner: text(a.owner),
    team: text(a.team),
    scenario: text(a.scenario),
    class: text(a.class),
    quota: rate(a.quota),
    routes: routes(a.routes),
  }));
  return { ...result, rules: { ...result.rules, callers: { ...result.rules.callers, accounts } } };
}
