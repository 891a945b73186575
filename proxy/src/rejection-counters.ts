// sluice_rejections_total children cached by account → reason (an account's class is fixed within
// one policy), so a flood of rejections costs two map lookups each and no string building.
import type { CounterSeries, HotCounter } from './hot-metrics.ts';
import type { RequestContext } from './guards/guard.ts';
import type { Reason, Rejection } from './reasons.ts';

type Child = CounterSeries;

export class RejectionCounters {
  private readonly counter: HotCounter;
  private readonly byAccount = new Map<string, Map<Reason, Child>>();

  constructor(counter: HotCounter) {
    this.counter = counter;
  }

  inc(ctx: RequestContext, verdict: Rejection): void {
    let byReason = this.byAccount.get(ctx.accountId);
    if (byReason === undefined) this.byAccount.set(ctx.accountId, (byReason = new Map()));
    let child = byReason.get(verdict.reason);
    if (child === undefined) {
      child = this.counter.labels(ctx.accountId || 'unknown', ctx.className || 'none', verdict.reason);
      byReason.set(verdict.reason, child);
    }
    child.inc();
  }
}
