// /admin/faults (SPEC §11): list the drills of the rules files and of the admin API together, each
// with its origin and time left; start an admin drill (with a ttl); stop one. Admin changes are
// broadcast to the fleet when the store is Redis. Control path: allocation is fine.
import type { Logger } from 'pino';
import type { Policy } from '../policy.ts';
import type { FaultRules } from '../rules/types.ts';
import type { FaultBus } from '../store/fault-bus.ts';
import type { FaultState } from './fault-state.ts';
import { parsePostedFault } from './parse-fault.ts';

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface FaultAdmin {
  faults(): unknown;
  postFault(body: string): AdminAnswer;
  deleteFault(name: string): AdminAnswer;
}

export interface FaultAdminDeps {
  readonly state: FaultState;
  current(): Policy | null;
  readonly bus: FaultBus | null;
  readonly log: Logger;
  readonly instanceId: string;
}

export function describeFault(fault: FaultRules, origin: 'rules' | 'admin', extra: Record<string, unknown> = {}, now = Date.now()): Record<string, unknown> {
  return {
    name: fault.name,
    origin,
    ...extra,
    cluster: fault.cluster,
    class: fault.className,
    accounts: fault.accounts,
    header: fault.header === null ? null : `${fault.header.name}: ${fault.header.value}`,
    delay_ms: fault.delayMs,
    delay_percent: fault.delayPercent,
    abort: fault.abortStatus,
    abort_percent: fault.abortPercent,
    until: fault.until === null ? null : new Date(fault.until).toISOString(),
    time_left_ms: fault.until === null ? null : Math.max(0, fault.until - now),
    active: fault.until === null || fault.until > now,
  };
}

export function faultAdmin(deps: FaultAdminDeps): FaultAdmin {
  const { state, log } = deps;
  const broadcast = (): void => {
    deps.bus?.publish(state.list()).catch((error: unknown) =>
      log.error({ event: 'fault_broadcast_failed', error: String(error) }, 'drill changed here but not broadcast: store unreachable'),
    );
  };
  return {
    faults() {
      const now = Date.now();
      const own = deps.current()?.rules.faults ?? [];
      return {
        faults: [
          ...own.map((fault) => describeFault(fault, 'rules', {}, now)),
          ...state.list(now).map((drill) => describeFault(drill.fault, 'admin', { instance: drill.instance, started_at: drill.startedAt }, now)),
        ],
      };
    },
    postFault(body) {
      const policy = deps.current();
      if (policy === null) return { status: 503, body: { error: 'no rules loaded' } };
      const fault = parsePostedFault(body, policy.rules);
      if (typeof fault === 'string') return { status: 400, body: { error: fault } };
      const drill = { fault, instance: deps.instanceId, startedAt: new Date().toISOString() };
      state.set(drill);
      log.warn({ event: 'drill_started', fault: fault.name, until: new Date(fault.until ?? 0).toISOString() }, `drill ${fault.name} started`);
      broadcast();
      return { status: 200, body: describeFault(fault, 'admin', { instance: drill.instance, started_at: drill.startedAt }) };
    },
    deleteFault(name) {
      if (deps.current()?.rules.faults.some((fault) => fault.name === name)) {
        return { status: 409, body: { error: `drill '${name}' is defined in the rules files: remove it there` } };
      }
      if (!state.remove(name)) return { status: 404, body: { error: `no running admin drill '${name}'` } };
      log.warn({ event: 'drill_stopped', fault: name }, `drill ${name} stopped`);
      broadcast();
      return { status: 200, body: { stopped: name } };
    },
  };
}
