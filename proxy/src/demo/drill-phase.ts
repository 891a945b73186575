// The chaos-drill phase of the tour (SPEC §11): nothing is broken for real. A drill posted to the
// admin API adds latency to every request for primary; the rt breaker sees it as primary's own
// latency, opens, and order flow fails over to backup; the drill ends by itself at its ttl and
// the half-open probes close the breaker again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Phase, PhaseControl } from './phases.ts';
import type { StreamSpec } from './traffic.ts';

export const DRILL_NAME = 'demo-primary-drill';
/** Delay the drill injects on primary. */
export const DRILL_DELAY_MS = 300;

export function chaosDrillPhase(streams: readonly StreamSpec[], breaker: string, threshold: string): Phase {
  return {
    title: 'Chaos drill on primary',
    explain:
      `a drill (POST /admin/faults, with a ttl) injects ${DRILL_DELAY_MS} ms on primary — primary itself is fine. ` +
      `Breaker ${breaker} (above ${threshold}) counts it as primary's latency and opens: order flow fails over to backup. ` +
      'The drill ends by itself at its ttl; half-open probes pass and the breaker closes.',
    seconds: 12,
    // The breaker needs the drill's latency and then two slow windows in a row to open, while the
    // adaptive limit sheds part of the flow; at --duration-scale 0.15 that took 1.9 s in one run,
    // longer than the 1.5 s the drill used to get. It now lasts at least 3 s.
    minSeconds: 4,
    streams,
    script: (control) => drill(control, breaker),
  };
}

async function drill(control: PhaseControl, breaker: string): Promise<void> {
  const { durationMs, signal } = control;
  const deadline = performance.now() + durationMs;
  // The previous phase's breaker may still be probing: start from a closed one.
  await until(() => control.breakerState(breaker) === 'closed', performance.now() + durationMs * 0.2, signal);
  const ttlMs = Math.max(3000, Math.round(durationMs * 0.4));
  const started = await fetch(`${control.adminUrl}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: DRILL_NAME, cluster: 'primary', delay: `${DRILL_DELAY_MS}ms`, ttl: `${ttlMs}ms` }),
    signal,
  }).catch(() => null);
  if (started === null || !started.ok) {
    control.event(`the drill could not be started: ${started === null ? 'admin API unreachable' : await started.text()}`);
    return;
  }
  control.event(`drill ${DRILL_NAME} started: +${DRILL_DELAY_MS} ms on primary for ${(ttlMs / 1000).toFixed(1)} s`);
  const endsAt = performance.now() + ttlMs;
  await until(() => control.breakerState(breaker) === 'open', endsAt, signal);
  await until(() => false, endsAt, signal);
  if (signal.aborted) return;
  control.event(`drill ${DRILL_NAME} ended by itself (ttl)`);
  await until(() => control.breakerState(breaker) === 'closed', deadline, signal);
  if (control.breakerState(breaker) === 'closed') control.event(`breaker ${breaker} closed again: order flow back on primary`);
}

/** Polls `done` until it holds, `deadline` (performance.now()) passes, or the tour is interrupted. */
async function until(done: () => boolean, deadline: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted && !done() && performance.now() < deadline) {
    await sleep(Math.min(100, Math.max(1, deadline - performance.now())), undefined, { signal }).catch(() => undefined);
  }
}
