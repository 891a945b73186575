// sluice_requests_total children cached per account, by cluster and code, so counting an answer
// is a short list walk and no string building. Every label value is bounded (accounts from the
// rules plus 'unknown', clusters from the rules plus 'none', HTTP status codes).
import type { CounterSeries, HotCounter } from './hot-metrics.ts';

/** One account's child for one cluster and code, in a list threaded through `next`. */
export class RequestChild {
  readonly cluster: string;
  readonly code: number;
  readonly series: CounterSeries;
  readonly next: RequestChild | null;
  constructor(cluster: string, code: number, series: CounterSeries, next: RequestChild | null) {
    this.cluster = cluster;
    this.code = code;
    this.series = series;
    this.next = next;
  }
}

/**
 * Where an account's children hang. A list, not a Map of Maps: an account answers from a cluster
 * or two with a few codes, and with 10 000 accounts the two Maps each were ~7 MiB of heap.
 */
export interface RequestChildren {
  requestChildren: RequestChild | null;
}

export class RequestCounters {
  private readonly counter: HotCounter;
  private readonly byAccount = new Map<string, RequestChildren>();

  constructor(counter: HotCounter) {
    this.counter = counter;
  }

  /**
   * `holder`: the account's own list (a CompiledAccount of this policy), which saves the lookup
   * by account id; by default found by `account`.
   */
  inc(account: string, className: string, cluster: string, code: number, holder: RequestChildren = this.ofAccount(account)): void {
    for (let c = holder.requestChildren; c !== null; c = c.next) {
      if (c.code === code && c.cluster === cluster) {
        c.series.inc();
        return;
      }
    }
    const series = this.counter.labels(account || 'unknown', className || 'none', cluster || 'none', String(code));
    holder.requestChildren = new RequestChild(cluster, code, series, holder.requestChildren);
    series.inc();
  }

  private ofAccount(account: string): RequestChildren {
    let holder = this.byAccount.get(account);
    if (holder === undefined) this.byAccount.set(account, (holder = { requestChildren: null }));
    return holder;
  }
}
