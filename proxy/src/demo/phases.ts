// The tour, as data: six phases, each a few streams of traffic, a line saying what it shows, and
// for the slowdown a script that changes the stand-in service while traffic runs. Explanations are
// computed from the rules actually in force, so they stay true when the example rules change.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Rules } from '../rules/types.ts';
import type { MemberService } from './member-service.ts';
import { chaosDrillPhase } from './drill-phase.ts';
import type { DemoRequest, StreamSpec } from './traffic.ts';
import { lunchHourPhase } from './lunch-hour.ts';

export interface PhaseControl {
  readonly service: MemberService;
  /** The phase's real (scaled) duration. */
  readonly durationMs: number;
  readonly signal: AbortSignal;
  /** The sidecar's admin API, e.g. http://127.0.0.1:9901. */
  readonly adminUrl: string;
  /** Current state of a breaker as last polled from the admin API, or null. */
  breakerState(name: string): string | null;
  /** A line in the view's event list. */
  event(text: string): void;
  /** The sidecar's rules directory: a phase may rewrite it (a hot reload). */
  readonly rulesDir?: string;
}

export interface Phase {
  readonly title: string;
  readonly explain: string;
  /** Unscaled duration in seconds. */
  readonly seconds: number;
  /**
   * Shortest the phase may be scaled to, seconds: breaker windows stop shrinking at 200 ms
   * (demo-rules.ts), so a phase that waits on a breaker cannot shrink much below that either.
   */
  readonly minSeconds?: number;
  readonly streams: readonly StreamSpec[];
  readonly script?: (control: PhaseControl) => Promise<void>;
}

/** The phase's duration at `scale`, milliseconds. */
export function phaseMs(phase: Phase, scale: number): number {
  return Math.max(phase.seconds * scale, phase.minSeconds ?? 0) * 1000;
}

export const HOT_MEMBER_ID = '777';
/** How slow primary gets in the slowdown phase. */
export const SLOW_PRIMARY_MS = 400;

const ORDER_RATE = 120;
const BOOKING_RATE = 60;
const MARKETING_TRICKLE = 30;
const MARKETING_FLOOD = 450;
const FRAUD_RATE = 20;
const LOOP_RATE = 600;
const BOT_RATE = 300;

/** The n-th of a spread of member ids: no id is asked often enough to be hot. */
function memberId(n: number, seed: number): string {
  return String(100_000 + ((n * 7919 + seed * 104_729) % 900_000));
}

function stream(label: string, account: string, rate: number, request: (n: number) => DemoRequest, app?: string): StreamSpec {
  return { label, account, rate, request, app };
}

const orderCenter = stream('order-center', 'order-center', ORDER_RATE, (n) => ({
  method: 'GET',
  path: n % 2 === 0 ? `/members/${memberId(n, 1)}` : `/members/${memberId(n, 1)}/level`,
}));

const BOOKING_CALLS = ['', '/level', '/points'] as const;
const bookingApp = stream(
  'booking-app',
  'booking-app',
  BOOKING_RATE,
  (n) => {
    const suffix = BOOKING_CALLS[n % BOOKING_CALLS.length];
    return { method: suffix === '/points' ? 'POST' : 'GET', path: `/members/${memberId(n, 2)}${suffix}` };
  },
  'hotel-checkout',
);

function marketing(rate: number): StreamSpec {
  return stream('marketing-campaign', 'marketing-campaign', rate, (n) => ({
    method: 'GET',
    // Searches stay rare: the member-id hot-key template also matches /members/search.
    path: n % 20 === 0 ? '/members/search' : `/members/${memberId(n, 3)}`,
  }));
}

function fraudCheck(rate: number, loopOnOne: boolean): StreamSpec {
  return stream('fraud-check', 'fraud-check', rate, (n) => ({
    method: 'GET',
    // A loop asks the same few members over and over; /risk is outside the member-id hot-key
    // template, so what stops it is the account quota alone.
    path: `/members/${loopOnOne ? memberId(n % 3, 4) : memberId(n, 4)}/risk`,
  }));
}

// Another service reusing booking-app's key: the accounts report at the end shows it shared.
const bot = stream('booking-app (bot)', 'booking-app', BOT_RATE, () => ({ method: 'GET', path: `/members/${HOT_MEMBER_ID}` }), 'price-scraper');

export function tourPhases(rules: Rules): Phase[] {
  const facts = factsOf(rules);
  return [
    {
      title: 'Normal order flow',
      explain:
        'order-center and booking-app load member profiles and levels: all admitted and served by primary; ' +
        'marketing-campaign\'s light traffic is served by its own isolated cluster.',
      seconds: 8,
      streams: [orderCenter, bookingApp, marketing(MARKETING_TRICKLE), fraudCheck(FRAUD_RATE, false)],
    },
    {
      title: 'Marketing flood',
      explain:
        `marketing-campaign floods at ${MARKETING_FLOOD}/s. Marketing may use ${facts.marketingShare} of the global cap ` +
        `(${facts.globalRate} → ${facts.marketingCeiling}): the rest fails fast with 429 global_cap, while order flow keeps passing.`,
      seconds: 9,
      streams: [orderCenter, bookingApp, marketing(MARKETING_FLOOD), fraudCheck(FRAUD_RATE, false)],
    },
    {
      title: 'A caller stuck in a loop',
      explain:
        `fraud-check retries in a tight loop at ${LOOP_RATE}/s against its quota of ${facts.quota('fraud-check')}: ` +
        'the excess gets 429 account_quota; every other caller keeps its own quota.',
      seconds: 9,
      streams: [orderCenter, bookingApp, marketing(MARKETING_TRICKLE), fraudCheck(LOOP_RATE, true)],
    },
    {
      title: 'A hot member id',
      explain:
        `a fraud bot behind booking-app asks for member ${HOT_MEMBER_ID} at ${BOT_RATE}/s; each member id may take ` +
        `${facts.hotKeyRate}: member ${HOT_MEMBER_ID} gets 429 hot_key, every other member id passes.`,
      seconds: 9,
      streams: [orderCenter, bookingApp, bot, marketing(MARKETING_TRICKLE), fraudCheck(FRAUD_RATE, false)],
    },
    {
      title: 'Primary slowdown',
      explain:
        `primary starts answering in ${SLOW_PRIMARY_MS} ms (breaker ${facts.rtBreaker} trips above ${facts.rtThreshold} on average): ` +
        'the breaker opens and order flow fails over to backup, marketing stays on its own cluster; ' +
        (rules.limits.adaptive.some((a) => a.cluster === 'primary')
          ? 'until it opens, the adaptive limit sheds what the slow primary cannot take (503 overloaded); '
          : '') +
        'then primary recovers, half-open probes pass and the breaker closes.',
      seconds: 14,
      streams: [orderCenter, bookingApp, marketing(MARKETING_TRICKLE), fraudCheck(FRAUD_RATE, false)],
      script: (control) => slowdown(control, facts.rtBreaker),
    },
    chaosDrillPhase([orderCenter, bookingApp, marketing(MARKETING_TRICKLE)], facts.rtBreaker, facts.rtThreshold),
    lunchHourPhase(rules, [orderCenter, bookingApp]),
  ];
}

/** Slows primary until its breaker opens (or half the phase passes), lets failover show, then recovers. */
async function slowdown(control: PhaseControl, breaker: string): Promise<void> {
  const { service, durationMs, signal } = control;
  service.primary.latencyMs = SLOW_PRIMARY_MS;
  control.event(`primary slows down: every answer now takes ${SLOW_PRIMARY_MS} ms`);
  try {
    const started = performance.now();
    const giveUpAt = started + durationMs * 0.5;
    while (!signal.aborted && performance.now() < giveUpAt && control.breakerState(breaker) !== 'open') {
      await sleep(Math.min(100, durationMs / 50));
    }
    // Keep primary slow a little longer so failover to backup is plain to see.
    if (!signal.aborted) await sleep(durationMs * 0.15, undefined, { signal }).catch(() => undefined);
  } finally {
    service.primary.latencyMs = 0;
    control.event('primary recovers: answers are fast again');
  }
}

interface Facts {
  readonly globalRate: string;
  readonly marketingShare: string;
  readonly marketingCeiling: string;
  readonly hotKeyRate: string;
  readonly rtBreaker: string;
  readonly rtThreshold: string;
  quota(account: string): string;
}

function factsOf(rules: Rules): Facts {
  const global = rules.limits.global;
  const marketing = rules.classes.find((c) => c.name === 'marketing');
  const hotKey = rules.limits.hotKeys.find((h) => h.key.startsWith('path:/members/')) ?? rules.limits.hotKeys[0];
  const rt = rules.degrade.find((d) => d.kind === 'rt' && d.cluster === 'primary');
  const share = marketing?.maxShare ?? 1;
  return {
    globalRate: global === null ? 'no global cap' : `${global.rate.perSecond}/s`,
    marketingShare: `${Math.round(share * 100)}%`,
    marketingCeiling: global === null ? 'unlimited' : `${Math.floor(global.rate.perSecond * share)}/s`,
    hotKeyRate: hotKey === undefined ? 'any rate (no hot-key rule)' : `${hotKey.rate.perSecond}/s`,
    rtBreaker: rt?.name ?? 'primary-slow',
    rtThreshold: rt === undefined ? '(no rt rule)' : `${rt.threshold} ms`,
    quota: (id) => {
      const quota = rules.callers.accounts.find((a) => a.id === id)?.quota;
      return quota === null || quota === undefined ? 'none' : `${quota.perSecond}/s`;
    },
  };
}
