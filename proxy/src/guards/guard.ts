import type { Rejection } from '../reasons.ts';
import type { Outcome, RequestContext } from '../request-context.ts';

export { RequestContext, type CompiledAccountRef } from '../request-context.ts';

export type Verdict = Rejection | null;

/**
 * One check in the pipeline. `check` answers synchronously when it can (memory store) and with a
 * promise when it must ask the shared store. After a guard admitted a request, exactly one of its
 * other two calls follows:
 * - `refund` when a later guard refuses it: give back what `check` took (quotas count admitted
 *   requests only);
 * - `settle` when its answer is known: forwarded and answered, failed, or left by the client, or
 *   aborted by a fault drill, which settles as the upstream error it stands for. Breakers and
 *   adaptive limits learn from it.
 * A guard without `settle` costs nothing after the answer.
 */
export interface Guard {
  readonly name: string;
  check(ctx: RequestContext): Verdict | Promise<Verdict>;
  refund?(ctx: RequestContext): void;
  settle?(ctx: RequestContext, outcome: Outcome): void;
}

/** A guard that learns from outcomes; the policy keeps these apart for the listener. */
export interface SettlingGuard extends Guard {
  settle(ctx: RequestContext, outcome: Outcome): void;
}

export function isSettling(guard: Guard): guard is SettlingGuard {
  return guard.settle !== undefined;
}
