// The fault-drill guard (SPEC §11), after the breaker (and the adaptive limit): for a request that
// matches a drill's filters it injects a delay before forwarding, or answers the drill's status
// instead of forwarding. Both count for the guards before it exactly as the upstream's latency or
// error would: the delay adds to ctx.injectedMs, which the settling guards add to the latency they
// see, and an abort carries the outcome it stands for, so those guards settle with it rather than
// refund. The first matching drill applies; a drill past its end matches nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Metrics } from '../metrics.ts';
import { rejection, type Rejection } from '../reasons.ts';
import type { FaultRules } from '../rules/types.ts';
import type { Guard, RequestContext, Verdict } from './guard.ts';

interface CompiledFault {
  readonly rules: FaultRules;
  readonly accounts: ReadonlySet<string> | null;
  readonly until: number;
  readonly abort: Rejection | null;
  readonly delayed: { inc(): void };
  readonly aborted: { inc(): void };
}

export function buildFaultGuard(faults: readonly FaultRules[], metrics: Metrics, random: () => number = Math.random): Guard | null {
  if (faults.length === 0) return null;
  const compiled: CompiledFault[] = faults.map((rules) => ({
    rules,
    accounts: rules.accounts === null ? null : new Set(rules.accounts),
    until: rules.until ?? Infinity,
    abort:
      rules.abortStatus === null
        ? null
        : Object.freeze(rejection('fault_injected', 0, null, Object.freeze({ status: rules.abortStatus, upstreamMs: 0, error: 'fault' }))),
    delayed: metrics.faultsInjected.labels(rules.name, 'delay'),
    aborted: metrics.faultsInjected.labels(rules.name, 'abort'),
  }));
  const count = compiled.length;

  const matching = (ctx: RequestContext, now: number): CompiledFault | null => {
    for (let i = 0; i < count; i++) {
      const fault = compiled[i];
      const rules = fault.rules;
      if (fault.until <= now) continue;
      if (rules.cluster !== null && rules.cluster !== ctx.cluster) continue;
      if (rules.className !== null && rules.className !== ctx.className) continue;
      if (fault.accounts !== null && !fault.accounts.has(ctx.accountId)) continue;
      if (rules.header !== null) {
        const value = ctx.req.headers[rules.header.name];
        if (value !== rules.header.value && !(Array.isArray(value) && value.includes(rules.header.value))) continue;
      }
      return fault;
    }
    return null;
  };

  return {
    name: 'fault',
    check(ctx: RequestContext): Verdict | Promise<Verdict> {
      const fault = matching(ctx, Date.now());
      if (fault === null) return null;
      const rules = fault.rules;
      const abort = fault.abort !== null && random() * 100 < rules.abortPercent ? fault.abort : null;
      if (abort !== null) fault.aborted.inc();
      if (rules.delayMs > 0 && random() * 100 < rules.delayPercent) {
        fault.delayed.inc();
        ctx.injectedMs += rules.delayMs;
        return sleep(rules.delayMs, abort);
      }
      return abort;
    },
  };
}
