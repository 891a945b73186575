// Complete, valid normalized Rules for tests, with overrides per section: tests of the compiled
// parts build Rules directly rather than through YAML. Bursts left out get the default the
// normalization gives (rules/burst.ts); a test about zero tolerance says `burst: 0`.
import { defaultBurst } from '../../src/rules/burst.ts';
import type { AccountRules, AdaptiveRules, CallerRules, ClassRules, GlobalLimitRules, HotKeyRules, Rate, Rules } from '../../src/rules/types.ts';

/** `200/s` or `120/min` as a normalized Rate. */
export function rate(text: string): Rate {
  const m = /^(\d+(?:\.\d+)?)\/(s|min)$/.exec(text.trim());
  if (m === null) throw new Error(`bad rate ${text}`);
  const n = Number(m[1]);
  return { text, perSecond: m[2] === 'min' ? n / 60 : n };
}

export function account(over: Partial<AccountRules> & { readonly id: string }): AccountRules {
  return {
    owner: 'Owner',
    team: 'team',
    scenario: `scenario of ${over.id}`,
    class: 'order',
    keySha256: null,
    quota: null,
    burst: over.quota === undefined || over.quota === null ? 0 : defaultBurst(over.quota.perSecond),
    routes: null,
    ...over,
  };
}

export function hotKey(over: Partial<HotKeyRules> = {}): HotKeyRules {
  const base = over.rate ?? rate('50/s');
  const overrides = over.overrides ?? new Map<string, Rate>();
  const overrideBursts = new Map<string, number>();
  for (const [value, r] of overrides) overrideBursts.set(value, over.burst ?? defaultBurst(r.perSecond));
  return {
    name: 'member-id',
    key: 'path:/members/{id}',
    rate: base,
    burst: defaultBurst(base.perSecond),
    overrides,
    overrideBursts,
    track: 1000,
    shadow: false,
    ...over,
  };
}

export function globalLimit(text: string, over: Partial<GlobalLimitRules> = {}): GlobalLimitRules {
  return { rate: rate(text), burst: defaultBurst(rate(text).perSecond), scope: 'instance', shadow: false, ...over };
}

export const DEFAULT_CLASSES: readonly ClassRules[] = [
  { name: 'order', priority: 0, cluster: 'primary', failover: 'backup', maxShare: 1 },
  { name: 'marketing', priority: 1, cluster: 'marketing', failover: null, maxShare: 0.3 },
];

export interface RulesOverrides {
  readonly callers?: Partial<CallerRules>;
  readonly accounts?: readonly AccountRules[];
  readonly classes?: readonly ClassRules[];
  readonly global?: GlobalLimitRules | null;
  readonly hotKeys?: readonly HotKeyRules[];
  readonly adaptive?: readonly AdaptiveRules[];
}

export function makeRules(over: RulesOverrides = {}): Rules {
  return {
    server: { listen: '127.0.0.1:0', admin: '127.0.0.1:0', adminTokenEnv: null, metricsPublic: false, headersTimeoutMs: 10_000, maxHeaders: 100 },
    store: { kind: 'memory', url: null, nodes: [], onFailure: 'local', instances: 1 },
    clusters: new Map([
      ['primary', { name: 'primary', endpoints: ['http://127.0.0.1:8081'], timeoutMs: 2000, connections: 16, balance: 'round_robin' as const, healthCheck: null, retry: null }],
      ['marketing', { name: 'marketing', endpoints: ['http://127.0.0.1:8082'], timeoutMs: 2000, connections: 16, balance: 'round_robin' as const, healthCheck: null, retry: null }],
      ['backup', { name: 'backup', endpoints: ['http://127.0.0.1:8083'], timeoutMs: 2000, connections: 16, balance: 'round_robin' as const, healthCheck: null, retry: null }],
    ]),
    classes: over.classes ?? DEFAULT_CLASSES,
    switch: new Map(),
    callers: {
      auth: 'trust',
      unknown: 'reject',
      unknownQuota: null,
      unknownBurst: over.callers?.unknownQuota ? defaultBurst(over.callers.unknownQuota.perSecond) : 0,
      enforceRoutes: false,
      accounts: over.accounts ?? [account({ id: 'order-center' })],
      identity: [{ kind: 'header', name: 'x-client-app' }, { kind: 'ip' }],
      ...over.callers,
    },
    limits: { global: over.global ?? null, hotKeys: over.hotKeys ?? [], adaptive: over.adaptive ?? [] },
    degrade: [],
    faults: [],
    tracing: null,
  };
}
