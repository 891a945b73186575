// The limit guards in SPEC order (caller → route allowed → account quota → hot key → global cap),
// built once per rules load; a guard with nothing configured is simply absent. runGuards runs a
// pipeline: synchronous and allocation-free while every guard answers synchronously (memory
// store); when one waits on the shared store, the rest run at once and their answers are
// combined in order, so a request costs one store round trip however many fleet-wide limits.
import type { UsageRegistry } from '../accounts/usage.ts';
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics.ts';
import type { Rejection } from '../reasons.ts';
import type { Rules } from '../rules/types.ts';
import type { StateRegistry } from '../state-registry.ts';
import type { CounterStore } from '../store/store.ts';
import { buildAccountTable } from './account-table.ts';
import { accountQuotaGuard } from './account-quota.ts';
import { callerGuard } from './caller.ts';
import { globalCapGuard } from './global-cap.ts';
import type { Guard, RequestContext, Verdict } from './guard.ts';
import { hotKeyGuard } from './hot-key.ts';
import { recordRejection } from './rejections.ts';
import { routesGuard } from './routes.ts';

export interface LimitGuardDeps {
  readonly store: CounterStore;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
  readonly usage: UsageRegistry;
}

export function buildLimitGuards(rules: Rules, deps: LimitGuardDeps): Guard[] {
  const table = buildAccountTable(rules, deps);
  const guards: Guard[] = [callerGuard(rules, table, { clock: deps.clock, metrics: deps.metrics, recordRoutes: !table.anyRoutes })];
  if (table.anyRoutes) guards.push(routesGuard(rules.callers.enforceRoutes));
  if (table.anyQuota) guards.push(accountQuotaGuard(deps.store));
  if (rules.limits.hotKeys.length > 0) guards.push(hotKeyGuard(rules.limits.hotKeys, deps));
  const global = globalCapGuard(rules, deps);
  if (global !== null) guards.push(global);
  return guards;
}

/**
 * Runs `guards` in order: null when all admit, else the first refusal, after giving back what the
 * guards before it consumed and counting it (sluice_rejections_total, usage) once identified.
 */
export function runGuards(guards: readonly Guard[], ctx: RequestContext): Verdict | Promise<Verdict> {
  return runFrom(guards, ctx, 0);
}

function runFrom(guards: readonly Guard[], ctx: RequestContext, start: number): Verdict | Promise<Verdict> {
  for (let i = start; i < guards.length; i++) {
    const verdict = guards[i].check(ctx);
    if (verdict === null) continue;
    if (isPromise(verdict)) return settleTogether(guards, ctx, i, verdict);
    return refused(guards, ctx, i, verdict);
  }
  return null;
}

/**
 * Guard `first` waits on the shared store. The guards after it do not depend on its answer (the
 * caller is identified by then), so they run now instead of one round trip later: a request pays
 * one store round trip, not one per fleet-wide limit. The verdict is still the first refusal in
 * SPEC order, and whatever the other guards took is given back.
 */
function settleTogether(guards: readonly Guard[], ctx: RequestContext, first: number, pending: Promise<Verdict>): Promise<Verdict> {
  const verdicts: (Verdict | Promise<Verdict>)[] = [pending];
  for (let i = first + 1; i < guards.length; i++) {
    const verdict = guards[i].check(ctx);
    verdicts.push(verdict);
    // A refusal known now: the guards after it need not run.
    if (verdict !== null && !isPromise(verdict)) break;
  }
  const evaluated = first + verdicts.length;
  return Promise.all(verdicts).then(
    (results) => {
      for (let k = 0; k < results.length; k++) {
        const verdict = results[k];
        if (verdict === null) continue;
        const index = first + k;
        refundExcept(guards, ctx, evaluated, index);
        recordRejection(ctx, verdict.reason);
        return verdict;
      }
      return null;
    },
    (error: unknown) => {
      refundExcept(guards, ctx, evaluated, -1);
      throw error;
    },
  );
}

function refused(guards: readonly Guard[], ctx: RequestContext, i: number, rejection: Rejection): Rejection {
  refundBefore(guards, ctx, i);
  recordRejection(ctx, rejection.reason);
  return rejection;
}

function refundBefore(guards: readonly Guard[], ctx: RequestContext, end: number): void {
  for (let j = 0; j < end; j++) guards[j].refund?.(ctx);
}

/** Gives back what guards [0, end) took, but for the one that refused (it took nothing). */
function refundExcept(guards: readonly Guard[], ctx: RequestContext, end: number, refusing: number): void {
  for (let j = 0; j < end; j++) if (j !== refusing) guards[j].refund?.(ctx);
}

function isPromise(v: Verdict | Promise<Verdict>): v is Promise<Verdict> {
  return typeof (v as { then?: unknown }).then === 'function';
}
