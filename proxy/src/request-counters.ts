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

  inc(account: string, className: string, cluster: string, code: number): void {
    let byCluster = this.byAccount.get(account);
    if (byCluster === undefined) this.byAccount.set(account, (byCluster = new Map()));
    let byCode = byCluster.get(cluster);
    if (byCode === undefined) byCluster.set(cluster, (byCode = new Map()));
    let child = byCode.get(code);
    if (child === undefined) {
      child = this.counter.labels(account || 'unknown', className || 'none', cluster || 'none', String(code));
      byCode.set(code, child);
    }
    child.inc();
  }
}
