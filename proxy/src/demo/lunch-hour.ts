// The "lunch-hour overload" phase (SPEC §9): the primary stand-in has a fixed capacity (C
// requests at once, S ms each, a queue beyond), and a batch export surges onto primary next to
// the order flow. The adaptive limit on primary learned the cluster's no-load latency in the
// earlier phases; now it sheds the surge with 503 overloaded, the lower class first (the batch
// class stops at 1 − reserve of the limit), so order flow keeps its latency instead of waiting
// in the member service's queue. The demo's rules copy gets what the phase needs, each addition
// shown as a note.
import { setTimeout as sleep } from 'node:timers/promises';
import { isMap, isSeq, type Document } from 'yaml';
import type { Rules } from '../rules/types.ts';
import type { MemberService } from './member-service.ts';
import type { Phase, PhaseControl } from './phases.ts';
import type { StreamSpec } from './traffic.ts';

/**
 * The primary stand-in's capacity for the whole tour: 32 at once, 50 ms each (640/s), room for
 * the bunches of arrivals a laptop running sidecar, service and callers in one process makes.
 */
export const PRIMARY_CAPACITY = 32;
export const PRIMARY_SERVICE_MS = 50;
const BATCH_ACCOUNT = 'loyalty-export';
const BATCH_CLASS = 'batch';
/** SHA-256 of demo-key-loyalty-export (the demo accounts' keys: see rules/callers.yaml). */
const BATCH_KEY_SHA256 = '3e6eed06ba6ddc21be2ee269e34699d344d8002b6c6aa0e8509c725f0ed1fc85';
const BATCH_SURGE = 600;
/**
 * min_limit keeps enough requests going to a slow primary for its rt breaker to see min_requests
 * per window and trip (the slowdown phase): the limit does not starve the breaker of samples.
 */
const ADAPTIVE_RULE = {
  cluster: 'primary',
  algorithm: 'gradient',
  initial_limit: 32,
  min_limit: 24,
  max_limit: 400,
  tolerance: 2,
  reserve: 0.5,
};

/** Gives the primary stand-in its capacity. */
export function capPrimary(service: MemberService): void {
  service.primary.capacity = PRIMARY_CAPACITY;
  service.primary.serviceMs = PRIMARY_SERVICE_MS;
}

/** Adds the batch class, its account and the adaptive limit on primary, when the rules lack them. */
export function addLunchHour(main: Document, all: readonly Document[], notes: string[]): void {
  const classesDoc = all.find((d) => isMap(d.get('classes'))) ?? main;
  if (!all.some((d) => d.hasIn(['classes', BATCH_CLASS]))) {
    classesDoc.setIn(['classes', BATCH_CLASS], classesDoc.createNode({ cluster: 'primary', failover: 'none', max_share: 0.6 }));
    notes.push(`added class ${BATCH_CLASS} (on primary, last in priority) for the lunch-hour phase`);
  }
  const accountsDoc = all.find((d) => isSeq(d.getIn(['callers', 'accounts'])));
  const accounts = accountsDoc?.getIn(['callers', 'accounts']);
  if (accountsDoc !== undefined && isSeq(accounts) && !all.some((d) => JSON.stringify(d.toJSON()).includes(`"${BATCH_ACCOUNT}"`))) {
    accounts.add(
      accountsDoc.createNode({
        id: BATCH_ACCOUNT,
        owner: 'Wang Fang',
        team: 'loyalty-data',
        scenario: 'Export member levels for the loyalty report',
        class: BATCH_CLASS,
        key_sha256: BATCH_KEY_SHA256,
        quota: '2000/s',
        burst: 200,
      }),
    );
    notes.push(`added account ${BATCH_ACCOUNT} (class ${BATCH_CLASS}) for the lunch-hour phase`);
  }
  if (!all.some((d) => d.hasIn(['limits', 'adaptive']))) {
    main.setIn(['limits', 'adaptive'], main.createNode([ADAPTIVE_RULE], { flow: true }));
    notes.push(
      `added limits.adaptive on primary (tolerance ${ADAPTIVE_RULE.tolerance}, reserve ${ADAPTIVE_RULE.reserve}, min_limit ${ADAPTIVE_RULE.min_limit}); ` +
        `the primary stand-in serves ${PRIMARY_CAPACITY} requests at once, ${PRIMARY_SERVICE_MS} ms each, and queues the rest`,
    );
  }
}

const batchExport: StreamSpec = {
  label: BATCH_ACCOUNT,
  account: BATCH_ACCOUNT,
  rate: BATCH_SURGE,
  request: (n) => ({ method: 'GET', path: `/members/${200_000 + (n % 700_000)}/level` }),
};

/** The phase, with the order streams of the tour. */
export function lunchHourPhase(rules: Rules, orderStreams: readonly StreamSpec[]): Phase {
  const rule = rules.limits.adaptive.find((a) => a.cluster === 'primary');
  const classes = rules.classes.filter((c) => c.cluster === 'primary').map((c) => c.name);
  const lowest = classes.at(-1) ?? BATCH_CLASS;
  const share = rule === undefined || classes.length < 2 ? 1 : 1 - rule.reserve;
  const capacity = Math.round((PRIMARY_CAPACITY * 1000) / PRIMARY_SERVICE_MS);
  return {
    title: 'Lunch-hour overload',
    explain:
      `${BATCH_ACCOUNT} (class ${lowest}) surges onto primary at ${BATCH_SURGE}/s next to the order flow; primary serves ` +
      `${capacity}/s (${PRIMARY_CAPACITY} at once, ${PRIMARY_SERVICE_MS} ms each) and queues the rest. The adaptive limit ` +
      (rule === undefined
        ? 'is not configured on primary, so everyone waits in the queue.'
        : `on primary sheds the excess at once with 503 overloaded, ${lowest} first (it stops at ${Math.round(share * 100)}% of the limit), ` +
          'so order flow keeps its latency.'),
    seconds: 8,
    streams: [...orderStreams, batchExport],
    script: showLimit,
  };
}

interface AdaptiveView {
  readonly cluster: string;
  readonly limit: number;
  readonly inflight: number;
  readonly noload_ms: number;
  readonly classes: readonly { readonly class: string; readonly admitted_below: number }[];
}

/** Midway through the surge, what the limit on primary learned (GET /admin/adaptive), as an event. */
async function showLimit(control: PhaseControl): Promise<void> {
  await sleep(control.durationMs * 0.6, undefined, { signal: control.signal }).catch(() => undefined);
  if (control.signal.aborted) return;
  const res = await fetch(`${control.adminUrl}/admin/adaptive`, { signal: control.signal }).catch(() => null);
  if (res === null || !res.ok) return;
  const view = ((await res.json()) as { clusters: AdaptiveView[] }).clusters.find((c) => c.cluster === 'primary');
  if (view === undefined) return;
  const shares = view.classes.map((c) => `${c.class} below ${c.admitted_below}`).join(', ');
  control.event(
    `adaptive limit on primary: L ${view.limit}, ${view.inflight} in flight, no-load latency ${view.noload_ms} ms; admitted while in flight is ${shares}`,
  );
}
