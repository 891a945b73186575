// sluice_requests_total children cached by account → cluster → code, so counting an answer is
// three map lookups and no string building. Every label value is bounded (accounts from the rules
// plus 'unknown', clusters from the rules plus 'none', HTTP status codes).
import type { CounterSeries, HotCounter } from './hot-metrics.ts';

type Child = CounterSeries;

export class RequestCounters {
  private readonly counter: HotCounter;
  private readonly byAccount = new Map<string, Map<string, Map<number, Child>>>();

  constructor(counter: HotCounter) {
    this.counter = counter;
  }

  /**
   * `byCluster`: the account's own map of children (CompiledAccount.requestChildren, made for
   * this policy), which saves the lookup by account id; by default found by `account`.
   */
  inc(account: string, className: string, cluster: string, code: number, byCluster: Map<string, Map<number, Child>> = this.ofAccount(account)): void {
    let byCode = byCluster.get(cluster);
    if (byCode === undefined) byCluster.set(cluster, (byCode = new Map()));
    let child = byCode.get(code);
    if (child === undefined) {
      child = this.counter.labels(account || 'unknown', className || 'none', cluster || 'none', String(code));
      byCode.set(code, child);
    }
    child.inc();
  }

  private ofAccount(account: string): Map<string, Map<number, Child>> {
    let byCluster = this.byAccount.get(account);
    if (byCluster === undefined) this.byAccount.set(account, (byCluster = new Map()));
    return byCluster;
  }
}
