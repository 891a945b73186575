// The limit guards in SPEC order (caller → route allowed → account quota → hot key → global cap),
// built once per rules load; a guard with nothing configured is simply absent. runGuards runs a
// pipeline: synchronous and allocation-free while every guard answers synchronously (memory
// store); when one waits on the shared store, the rest run at once and their answers are
// combined in order, so a request costs one store round trip however many fleet-wide limits.
import type { UsageRegistry } from '../accounts/usage.ts';
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics.ts';
import type { Rejection } from '../reasons.ts';
import type { Outcome } from '../request-context.ts';
import type { Rules } from '../rules/types.ts';
import type { StateRegistry } from '../state-registry.ts';
import type { CounterStore } from '../store/store.ts';
import type { ClassTable } from '../compiled-class.ts';
import { buildAccountTable } from './account-table.ts';
import { accountQuotaGuard } from './account-quota.ts';
import { callerGuard } from './caller.ts';
import { globalCapGuard } from './global-cap.ts';
import type { Guard, RequestContext, SettlingGuard, Verdict } from './guard.ts';
import { hotKeyGuard } from './hot-key.ts';
import { countRefusal } from './rejections.ts';
import { routesGuard } from './routes.ts';

export interface LimitGuardDeps {
  readonly store: CounterStore;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
  readonly usage: UsageRegistry;
  /** The policy's compiled classes (compile.ts): accounts and the global cap hang their parts on them. */
  readonly classes?: ClassTable;
}

export function buildLimitGuards(rules: Rules, deps: LimitGuardDeps): Guard[] {
  const table = buildAccountTable(rules, deps);
  const guards: Guard[] = [callerGuard(rules, table, { metrics: deps.metrics, recordRoutes: !table.anyRoutes })];
  if (table.anyRoutes) guards.push(routesGuard(rules.callers.enforceRoutes));
  if (table.anyQuota) guards.push(accountQuotaGuard(deps.store));
  if (rules.limits.hotKeys.length > 0) guards.push(hotKeyGuard(rules.limits.hotKeys, deps));
  const global = globalCapGuard(rules, deps, deps.classes);
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
  let waiting = 1;
  for (let i = first + 1; i < guards.length; i++) {
    const verdict = guards[i].check(ctx);
    verdicts.push(verdict);
    if (verdict === null) continue;
    if (isPromise(verdict)) waiting++;
    // A refusal known now: the guards after it need not run.
    else break;
  }
  const evaluated = first + verdicts.length;
  const decide = (results: readonly Verdict[]): Verdict => {
    for (let k = 0; k < results.length; k++) {
      const verdict = results[k];
      if (verdict === null) continue;
      const index = first + k;
      undoExcept(guards, ctx, evaluated, index, verdict);
      countRefusal(ctx, verdict);
      return verdict;
    }
    return null;
  };
  const failed = (error: unknown): never => {
    undoExcept(guards, ctx, evaluated, -1, null);
    throw error;
  };
  // The usual case, one guard waiting (a leased bucket answers at once): its answer completes the
  // list in place. Promise.all would wrap every other answer in a promise of its own, each with
  // its own reaction to run.
  if (waiting === 1) {
    return pending.then((verdict) => {
      verdicts[0] = verdict;
      return decide(verdicts as Verdict[]);
    }, failed);
  }
  return Promise.all(verdicts).then(decide, failed);
}

function refused(guards: readonly Guard[], ctx: RequestContext, i: number, rejection: Rejection): Rejection {
  undoExcept(guards, ctx, i, i, rejection);
  countRefusal(ctx, rejection);
  return rejection;
}

/**
 * The guards [0, end) admitted, but for `refusing` (it took nothing; -1 when none refused): each
 * gives back what it took, or, when the refusal stands for an upstream answer (an injected fault),
 * those before it settle with that answer.
 */
function undoExcept(guards: readonly Guard[], ctx: RequestContext, end: number, refusing: number, refusal: Rejection | null): void {
  const outcome = refusal === null ? null : refusal.settlesAs;
  for (let j = 0; j < end; j++) {
    if (j === refusing) continue;
    const guard = guards[j];
    // Guards after the refusing one never saw the request reach the upstream: refunded.
    if (outcome !== null && j < refusing && guard.settle !== undefined) guard.settle(ctx, outcome);
    else guard.refund?.(ctx);
  }
}

/** An admitted request was never sent after all: every guard gives back what it took. */
export function refundGuards(guards: readonly Guard[], ctx: RequestContext): void {
  for (let i = 0; i < guards.length; i++) guards[i].refund?.(ctx);
}

/**
 * The answer to an admitted request is known: every settling guard learns it, once. The listener
 * calls this with the policy's settlers when the exchange ends.
 */
export function settleGuards(settlers: readonly SettlingGuard[], ctx: RequestContext, outcome: Outcome): void {
  for (let i = 0; i < settlers.length; i++) settlers[i].settle(ctx, outcome);
}

function isPromise(v: Verdict | Promise<Verdict>): v is Promise<Verdict> {
  return typeof (v as { then?: unknown }).then === 'function';
}
