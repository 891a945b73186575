// One breaker per degrade rule (and the cluster it watches): closed → open → half-open → closed.
//
// opossum is not used as the state machine here, on purpose. Its CircuitBreaker moves from open to
// half-open only through its own setTimeout (resetTimeout), stamped with Date.now(); it has no
// public way to enter half-open, so an injected clock cannot drive it and every open breaker owns a
// timer. It also closes on the first success while SPEC asks for `probes` successes, and it wants
// each call wrapped in fire() (a promise per request). The transitions below are small, driven by
// the injected Clock and the shared WindowClock, and exact in tests.
import type { Gauge } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Metrics } from '../metrics.ts';
import type { DegradeRules } from '../rules/types.ts';
import type { WindowClock, WindowSubscriber } from './window-clock.ts';
import { WindowStats, type WindowSummary } from './window-stats.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Called on every state change, e.g. to write one log line. `why` says what caused it. */
export type TransitionListener = (breaker: Breaker, from: BreakerState, to: BreakerState, why: string) => void;

/** acquire() answers: refused, or admitted without being a probe; a probe gets a positive token. */
export const DENIED = -1;
export const PASSED = 0;

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const STATE_NAMES: readonly BreakerState[] = ['closed', 'open', 'half-open'];
/** Longest Retry-After suggested while the half-open probes are all out. */
const HALF_OPEN_RETRY_MS = 1000;

/** The state identity of a degrade rule: any change to the rule starts a fresh breaker. */
export function breakerIdentity(rule: DegradeRules): string {
  return [
    'breaker', rule.name, rule.cluster, rule.kind, rule.threshold, rule.windowMs,
    rule.minRequests, rule.openForMs, rule.probes, rule.action, rule.shadow,
  ].join('\u0000');
}

/** What /admin/breakers shows for one breaker. */
export interface BreakerDescription {
  readonly name: string;
  readonly cluster: string;
  readonly kind: DegradeRules['kind'];
  readonly threshold: number;
  readonly window_ms: number;
  readonly min_requests: number;
  readonly open_for_ms: number;
  readonly action: DegradeRules['action'];
  readonly shadow: boolean;
  readonly state: BreakerState;
  /** Wall-clock time of the last transition (or of creation). */
  readonly since: string;
  /** Milliseconds spent in the current state. */
  readonly since_ms: number;
  /** Why the last transition happened; '' before the first. */
  readonly reason: string;
  readonly trips: number;
  readonly window: { readonly current: WindowSummary; readonly last: WindowSummary; readonly suspect: boolean };
  /** Milliseconds until a probe may go through; null while closed. */
  readonly next_probe_in_ms: number | null;
  readonly probes: { readonly allowed: number; readonly in_flight: number; readonly succeeded: number };
}

export interface BreakerWiring {
  readonly metrics: Metrics | null;
  readonly onTransition: TransitionListener | null;
  /** A probe without an outcome after this long is forgotten and its slot given to a new probe. */
  readonly probeDeadlineMs: number;
}

/** Which breaker currently reports each gauge series, so a replaced rule's dispose leaves the new one's series alone. */
const gaugeOwners = new WeakMap<object, Map<string, Breaker>>();

export class Breaker implements WindowSubscriber {
  readonly rule: DegradeRules;
  readonly name: string;
  readonly cluster: string;
  readonly shadow: boolean;
  /** Action failover: the class may go to its failover cluster while this breaker refuses. */
  readonly failsOver: boolean;
  /** Clock ms of the last transition (or of creation). */
  since: number;
  trips = 0;
  reason = '';

  private readonly clock: Clock;
  private readonly windowClock: WindowClock;
  private readonly stats: WindowStats;
  private readonly isRt: boolean;
  private readonly isRatio: boolean;
  private readonly threshold: number;
  private readonly minRequests: number;
  private readonly probes: number;
  private code = CLOSED;
  /** rt: the last window was over the threshold; one more confirms. */
  private suspect = false;
  private openUntil = 0;
  /** Bumped on every transition: a probe token from an earlier half-open is stale. */
  private epoch = 1;
  private probesTaken = 0;
  private probesSucceeded = 0;
  private lastProbeAt = 0;
  private probeDeadlineMs = 10_000;
  private gaugeChild: Gauge.Internal<'breaker' | 'cluster'> | null = null;
  private gauge: Gauge<'breaker' | 'cluster'> | null = null;
  private listener: TransitionListener | null = null;
  private disposed = false;

  constructor(rule: DegradeRules, clock: Clock, windowClock: WindowClock) {
    this.rule = rule;
    this.name = rule.name;
    this.cluster = rule.cluster;
    this.shadow = rule.shadow;
    this.failsOver = rule.action === 'failover';
    this.clock = clock;
    this.windowClock = windowClock;
    this.isRt = rule.kind === 'rt';
    this.isRatio = rule.kind === 'error_ratio';
    this.threshold = rule.threshold;
    this.minRequests = Math.max(1, rule.minRequests);
    this.probes = Math.max(1, rule.probes);
    const now = clock.now();
    this.since = now;
    this.stats = new WindowStats(rule.windowMs, now);
    windowClock.subscribe(this);
  }

  /** (Re)connects the breaker to the policy being built: metrics, transition log, probe deadline. */
  wire(wiring: BreakerWiring): void {
    this.listener = wiring.onTransition;
    this.probeDeadlineMs = wiring.probeDeadlineMs;
    if (wiring.metrics === null) return;
    const gauge = wiring.metrics.breakerState;
    let owners = gaugeOwners.get(gauge);
    if (owners === undefined) gaugeOwners.set(gauge, (owners = new Map()));
    owners.set(this.seriesKey(), this);
    this.gauge = gauge;
    this.gaugeChild = gauge.labels(this.name, this.cluster);
    this.gaugeChild.set(this.code);
  }

  get state(): BreakerState {
    return STATE_NAMES[this.code];
  }

  /** One finished upstream exchange on this cluster; errors are 5xx, timeouts and connection failures. */
  record(latencyMs: number, isError: boolean): void {
    const stats = this.stats;
    const now = this.clock.now();
    // A window that has ended is closed before the call counts, not at the shared ticker's next
    // run: on a busy event loop that runs late, and one late tick saw two windows' calls as one
    // window followed by an empty one, which breaks a run of slow windows (an rt breaker under a
    // 300 ms drill never opened on a loaded 2-core machine).
    if (stats.elapsed(now) > 0) this.onTick(now);
    stats.add(latencyMs, isError);
    if (this.code === CLOSED && !this.isRt && stats.calls >= this.minRequests && this.errorsExceeded(stats.calls, stats.errors)) {
      this.trip(now, this.errorWhy(stats.calls, stats.errors));
    }
  }

  /** May a request go to this cluster? In half-open this takes one of the `probes` slots. */
  allow(): boolean {
    return this.acquire() !== DENIED;
  }

  /**
   * Like allow(), answering DENIED, PASSED, or a probe token (> 0) whose outcome must be given to
   * settleProbe() (or handed back with releaseProbe() when the request is not sent after all).
   */
  acquire(): number {
    if (this.code === CLOSED) return PASSED;
    const now = this.clock.now();
    if (this.code === OPEN) {
      if (now < this.openUntil) return DENIED;
      this.toHalfOpen(now);
    }
    if (this.probesTaken >= this.probes) return DENIED;
    this.probesTaken++;
    this.lastProbeAt = now;
    return this.epoch;
  }

  /** Would acquire() admit now? Takes nothing (it may notice that open_for has elapsed). */
  permits(): boolean {
    if (this.code === CLOSED) return true;
    if (this.code === OPEN) {
      const now = this.clock.now();
      if (now < this.openUntil) return false;
      this.toHalfOpen(now);
    }
    return this.probesTaken < this.probes;
  }

  /** The outcome of a probe. For rt breakers a probe slower than the threshold failed too. */
  settleProbe(token: number, latencyMs: number, isError: boolean): void {
    if (token !== this.epoch || this.code !== HALF_OPEN) return;
    const now = this.clock.now();
    if (isError) this.trip(now, 'a half-open probe failed');
    else if (this.isRt && latencyMs > this.threshold) {
      this.trip(now, `a half-open probe took ${round(latencyMs)}ms > ${this.threshold}ms`);
    } else if (++this.probesSucceeded >= this.probes) {
      this.toClosed(now, `${this.probes} half-open probe(s) succeeded`);
    }
  }

  /** A probe slot taken for a request that was never sent. */
  releaseProbe(token: number): void {
    if (token === this.epoch && this.code === HALF_OPEN && this.probesTaken > this.probesSucceeded) this.probesTaken--;
  }

  /** Milliseconds until this breaker may admit again (0 when it admits now). */
  nextProbeInMs(): number {
    if (this.code === CLOSED) return 0;
    const now = this.clock.now();
    if (this.code === OPEN) return Math.max(0, this.openUntil - now);
    if (this.probesTaken < this.probes) return 0;
    return Math.max(1, Math.min(HALF_OPEN_RETRY_MS, this.lastProbeAt + this.probeDeadlineMs - now));
  }

  onTick(now: number): void {
    const stats = this.stats;
    const windows = stats.elapsed(now);
    if (windows > 0) {
      const calls = stats.calls;
      const errors = stats.errors;
      const rtSum = stats.rtSum;
      stats.roll(windows);
      if (this.code === CLOSED) this.closeWindow(now, calls, errors, rtSum, windows);
    }
    if (this.code === OPEN) {
      if (now >= this.openUntil) this.toHalfOpen(now);
    } else if (this.code === HALF_OPEN) {
      // Outcomes that never came (a caller that forgot to settle) must not hold half-open forever.
      if (this.probesTaken > this.probesSucceeded && now - this.lastProbeAt > this.probeDeadlineMs) {
        this.probesTaken = this.probesSucceeded;
      }
    }
  }

  /** Forces a state, for operators and tests. */
  force(state: BreakerState, why = 'forced'): void {
    const now = this.clock.now();
    if (state === 'open') this.trip(now, why);
    else if (state === 'half-open') this.toHalfOpen(now, why);
    else this.toClosed(now, why);
  }

  describe(): BreakerDescription {
    const now = this.clock.now();
    const age = Math.max(0, now - this.since);
    const rule = this.rule;
    return {
      name: this.name,
      cluster: this.cluster,
      kind: rule.kind,
      threshold: rule.threshold,
      window_ms: rule.windowMs,
      min_requests: rule.minRequests,
      open_for_ms: rule.openForMs,
      action: rule.action,
      shadow: rule.shadow,
      state: this.state,
      since: new Date(Date.now() - age).toISOString(),
      since_ms: round(age),
      reason: this.reason,
      trips: this.trips,
      window: { current: this.stats.current(), last: this.stats.last(), suspect: this.suspect },
      next_probe_in_ms: this.code === CLOSED ? null : round(this.nextProbeInMs()),
      probes: {
        allowed: this.probes,
        in_flight: this.code === HALF_OPEN ? this.probesTaken - this.probesSucceeded : 0,
        succeeded: this.code === HALF_OPEN ? this.probesSucceeded : 0,
      },
    };
  }

  /** Called by the state registry when no rule needs this breaker any more. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.windowClock.unsubscribe(this);
    const gauge = this.gauge;
    if (gauge === null) return;
    const owners = gaugeOwners.get(gauge);
    const key = this.seriesKey();
    if (owners?.get(key) === this) {
      owners.delete(key);
      gauge.remove(this.name, this.cluster);
    }
  }

  private closeWindow(now: number, calls: number, errors: number, rtSum: number, windows: number): void {
    if (calls >= this.minRequests) {
      if (this.isRt) {
        const average = rtSum / calls;
        if (average > this.threshold) {
          if (this.suspect) {
            this.trip(now, `average rt ${round(average)}ms > ${this.threshold}ms in two consecutive windows`);
            return;
          }
          this.suspect = true;
        } else {
          this.suspect = false;
        }
      } else if (this.errorsExceeded(calls, errors)) {
        this.trip(now, this.errorWhy(calls, errors));
        return;
      }
    } else {
      // Too few calls decide nothing, and they break a run of slow windows.
      this.suspect = false;
    }
    // An empty window came between this one and the next: not consecutive.
    if (windows > 1) this.suspect = false;
  }

  private errorsExceeded(calls: number, errors: number): boolean {
    if (errors === 0) return false;
    return this.isRatio ? errors / calls >= this.threshold : errors >= this.threshold;
  }

  private errorWhy(calls: number, errors: number): string {
    return this.isRatio
      ? `error ratio ${round(errors / calls)} >= ${this.threshold} over ${calls} calls`
      : `${errors} errors >= ${this.threshold} in ${calls} calls`;
  }

  private trip(now: number, why: string): void {
    this.trips++;
    this.openUntil = now + this.rule.openForMs;
    this.transition(OPEN, now, why);
  }

  private toHalfOpen(now: number, why = `open for ${this.rule.openForMs}ms`): void {
    this.probesTaken = 0;
    this.probesSucceeded = 0;
    this.transition(HALF_OPEN, now, why);
  }

  private toClosed(now: number, why: string): void {
    this.transition(CLOSED, now, why);
  }

  private transition(to: number, now: number, why: string): void {
    const from = this.code;
    this.code = to;
    this.since = now;
    this.reason = why;
    this.epoch++;
    this.suspect = false;
    // Each state judges its own calls: a closed breaker starts from a clean window.
    this.stats.reset(now);
    if (this.gaugeChild !== null) this.gaugeChild.set(to);
    if (this.listener !== null && from !== to) this.listener(this, STATE_NAMES[from], STATE_NAMES[to], why);
  }

  private seriesKey(): string {
    return `${this.name}\u0000${this.cluster}`;
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
