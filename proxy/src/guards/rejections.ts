// Counting a refusal, in one place: sluice_rejections_total{account,class,reason} and the account's
// usage profile, through the account the request was identified as (the claimed account for a
// wrong key; the bounded 'unknown' caller before identification). The pipeline calls it for every
// guard's refusal; the listener for the few refusals made outside the pipeline.
import type { CounterSeries } from '../hot-metrics.ts';
import { rejection, type Reason, type Rejection } from '../reasons.ts';
import type { CompiledAccountRef, RequestContext } from '../request-context.ts';

export function countRefusal(ctx: RequestContext, refusal: Rejection): void {
  ctx.account?.countRejection(refusal.reason);
}

/** A frozen rejection without retry or policy, made once and answered many times. */
export function fixedRejection(reason: Reason): Rejection {
  return Object.freeze(rejection(reason));
}

/**
 * The caller before identification, as an account to count against: labels account 'unknown' and
 * class 'none', and no usage profile (an unregistered name is not an account).
 */
export class UnidentifiedCaller implements CompiledAccountRef {
  readonly id = '';
  readonly className = '';
  private readonly byReason = new Map<Reason, CounterSeries>();
  private readonly labels: (reason: Reason) => CounterSeries;

  constructor(labels: (reason: Reason) => CounterSeries) {
    this.labels = labels;
  }

  countRejection(reason: Reason): void {
    let child = this.byReason.get(reason);
    if (child === undefined) this.byReason.set(reason, (child = this.labels(reason)));
    child.inc();
  }
}
