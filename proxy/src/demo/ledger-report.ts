// The tour's last word: the accounts report of its own traffic, from the sidecar's caller ledger,
// as `sluice accounts report` prints it — the account another service reuses shows up shared.
import { buildReport, reportTable, suggestionLines } from '../accounts/report.ts';
import type { Sidecar } from '../sidecar.ts';
import type { Style } from './view.ts';

export function accountsReportBlock(sidecar: Sidecar, style: Style): string {
  const rules = sidecar.reloader.loaded?.rules;
  if (rules === undefined) return '';
  // Take what the last second brought, rather than waiting for the ledger's own pass.
  sidecar.ledger.flush();
  const ledgers = new Map(rules.callers.accounts.map((a) => [a.id, sidecar.ledger.summary(a.id, 1)]));
  const tried = sidecar.ledger.unregisteredNames().map((name) => ({ name, ledger: sidecar.ledger.summary(name, 1, false) }));
  const report = buildReport(rules.callers.accounts, ledgers, tried, 1, 'this sidecar');
  const lines = [
    style.bold('Who really called with each account (sluice accounts report):'),
    ...reportTable(report).slice(1).map((l) => `  ${l}`),
    '',
    style.dim('  Quotas from what each account really needed (sluice accounts report --suggest-quotas):'),
    ...suggestionLines(report, null).map((l) => style.dim(`  ${l}`)),
  ];
  return `${lines.join('\n')}\n`;
}
