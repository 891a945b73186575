// Hot-key throttling (SPEC §3 Hot keys): per rule, each distinct key value (a member id, a client
// address...) is limited to the rule's rate, or its override. Tables live in the state registry
// under the rule's identity, so an unchanged rule keeps them over a reload. A shadow rule is
// evaluated on its own table and counted, but admits.
import type { Gauge } from 'prom-client';
import type { Clock } from '../clock.ts';
import { gcraSpec, type GcraSpec } from '../limits/gcra.ts';
import { HotKeyTable, type HotKeyView } from '../limits/hot-key-table.ts';
import { compileKeyRange, KeyRange, type KeyRangeExtractor } from '../limits/key-extractor.ts';
import type { Metrics } from '../metrics.ts';
import { rejection, type LimitInfo } from '../reasons.ts';
import type { HotKeyRules } from '../rules/types.ts';
import type { StateRegistry } from '../state-registry.ts';
import { accountOf, limitInfo } from './account-table.ts';
import { hotKeyBit, MAX_REFUNDED_HOT_KEYS } from './consumed.ts';
import type { Guard, RequestContext, Verdict } from './guard.ts';

/** sluice_hot_keys_tracked is refreshed every this many checks (and at build), not per request. */
const GAUGE_EVERY = 1024;

export interface HotKeyGuardDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly registry: StateRegistry;
}

interface CompiledHotKey {
  readonly rule: HotKeyRules;
  readonly table: HotKeyTable;
  readonly extract: KeyRangeExtractor;
  readonly shadow: boolean;
  readonly bit: number;
  readonly limit: LimitInfo;
  readonly overrideLimits: ReadonlyMap<string, LimitInfo>;
  readonly tracked: Gauge.Internal<'rule'>;
}

export function hotKeyGuard(rules: readonly HotKeyRules[], deps: HotKeyGuardDeps): HotKeyGuard {
  return new HotKeyGuard(rules, deps);
}

/**
 * The table of a hot-key rule. Its identity holds everything that shapes the table (key, rate,
 * burst, overrides, track, shadow), so any change starts a fresh table.
 */
export function hotKeyTable(registry: StateRegistry, rule: HotKeyRules): HotKeyTable {
  const burstOf = (value: string) => rule.overrideBursts.get(value) ?? rule.burst;
  const overrides = [...rule.overrides].map(([value, rate]) => `${value}=${rate.perSecond}/${burstOf(value)}`).join(',');
  const identity = `hotkey:${rule.name}:${rule.key}:${rule.rate.perSecond}:${rule.burst}:${rule.track}:${rule.shadow ? 'shadow' : 'enforce'}:${overrides}`;
  return registry.get(identity, () => {
    const specs = new Map<string, GcraSpec>();
    for (const [value, rate] of rule.overrides) specs.set(value, gcraSpec(rate.perSecond, burstOf(value)));
    return new HotKeyTable({ name: rule.name, track: rule.track, rate: gcraSpec(rule.rate.perSecond, rule.burst), overrides: specs });
  });
}

export class HotKeyGuard implements Guard {
  readonly name = 'hot_key';
  readonly rules: readonly CompiledHotKey[];
  private readonly clock: Clock;
  private calls = 0;
  /** Where the key value of the rule being checked lies in the request (checks are synchronous). */
  private readonly key = new KeyRange();
  /**
   * What rules past the MAX_REFUNDED_HOT_KEYS bits of ctx.consumed took, per request; only used
   * with that many rules, and weak so a request forwarded without refund leaves nothing behind.
   */
  private readonly takenBeyond = new WeakMap<RequestContext, Uint8Array>();

  constructor(rules: readonly HotKeyRules[], deps: HotKeyGuardDeps) {
    this.clock = deps.clock;
    this.rules = rules.map((rule, i) => {
      const overrideLimits = new Map<string, LimitInfo>();
      for (const [value, rate] of rule.overrides) overrideLimits.set(value, limitInfo('hot_key', rate));
      return {
        rule,
        table: hotKeyTable(deps.registry, rule),
        extract: compileKeyRange(rule.key),
        shadow: rule.shadow,
        bit: hotKeyBit(i),
        limit: limitInfo('hot_key', rule.rate),
        overrideLimits,
        tracked: deps.metrics.hotKeysTracked.labels(rule.name),
      };
    });
    this.refreshGauges();
  }

  check(ctx: RequestContext): Verdict {
    if (++this.calls === GAUGE_EVERY) this.refreshGauges();
    const now = ctx.startedAt;
    const rules = this.rules;
    const key = this.key;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if (!r.extract(ctx, key)) continue;
      const wait = r.table.take(key.source, now, key.start, key.end);
      if (wait === 0) {
        if (r.bit !== 0) ctx.consumed |= r.bit;
        else this.markBeyond(ctx, i);
        continue;
      }
      if (r.shadow) {
        ctx.shadowed = true;
        accountOf(ctx)?.countShadow('hot_key');
        continue;
      }
      // Only a refusal under overrides makes the value a string of its own (to name its limit).
      const limit = r.overrideLimits.size === 0 ? r.limit : (r.overrideLimits.get(key.source.slice(key.start, key.end)) ?? r.limit);
      this.giveBack(ctx, i, now);
      return rejection('hot_key', wait, limit);
    }
    return null;
  }

  refund(ctx: RequestContext): void {
    this.giveBack(ctx, this.rules.length, this.clock.now());
  }

  /** Keys near or over their rate, per rule, most loaded first (for /admin/hotkeys). */
  near(ratio = 0.8, limit = 100): HotKeyListing[] {
    const now = this.clock.now();
    this.refreshGauges();
    return this.rules.map((r) => ({
      rule: r.rule.name,
      key: r.rule.key,
      rate: r.rule.rate.text,
      shadow: r.shadow,
      tracked: r.table.size,
      track: r.table.track,
      keys: r.table.near(now, ratio, limit),
    }));
  }

  /** Give back what rules before `end` took for this request. */
  private giveBack(ctx: RequestContext, end: number, now: number): void {
    for (let i = 0; i < end; i++) {
      const r = this.rules[i];
      if (r.bit !== 0) {
        if ((ctx.consumed & r.bit) === 0) continue;
        ctx.consumed &= ~r.bit;
      } else if (!this.clearBeyond(ctx, i)) continue;
      const key = this.key;
      if (r.extract(ctx, key)) r.table.give(key.source, now, key.start, key.end);
    }
  }

  /** Rule `i`, past the bits of ctx.consumed, took for this request. */
  private markBeyond(ctx: RequestContext, i: number): void {
    let taken = this.takenBeyond.get(ctx);
    if (taken === undefined) {
      taken = new Uint8Array(this.rules.length - MAX_REFUNDED_HOT_KEYS);
      this.takenBeyond.set(ctx, taken);
    }
    taken[i - MAX_REFUNDED_HOT_KEYS] = 1;
  }

  /** Whether rule `i` (past the bits) took for this request; forgets it. */
  private clearBeyond(ctx: RequestContext, i: number): boolean {
    const taken = this.takenBeyond.get(ctx);
    if (taken === undefined || taken[i - MAX_REFUNDED_HOT_KEYS] === 0) return false;
    taken[i - MAX_REFUNDED_HOT_KEYS] = 0;
    return true;
  }

  private refreshGauges(): void {
    this.calls = 0;
    for (const r of this.rules) r.tracked.set(r.table.size);
  }
}

export interface HotKeyListing {
  readonly rule: string;
  readonly key: string;
  readonly rate: string;
  readonly shadow: boolean;
  readonly tracked: number;
  readonly track: number;
  readonly keys: readonly HotKeyView[];
}

/** /admin/hotkeys: the hot-key guard's listing among `guards`, or [] when none is configured. */
export function listHotKeys(guards: readonly Guard[], ratio = 0.8, limit = 100): HotKeyListing[] {
  for (const g of guards) if (g instanceof HotKeyGuard) return g.near(ratio, limit);
  return [];
}
