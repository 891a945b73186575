// Complete, valid normalized Rules for tests, with overrides per section: tests of the compiled
// parts build Rules directly rather than through YAML.
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
    burst: 0,
    routes: null,
    ...over,
  };
}

export function hotKey(over: Partial<HotKeyRules> = {}): HotKeyRules {
  return {
    name: 'member-id',
    key: 'path:/members/{id}',
    rate: rate('50/s'),
    burst: 0,
    overrides: new Map(),
    track: 1000,
    shadow: false,
    ...over,
  };
}

export function globalLimit(text: string, over: Partial<GlobalLimitRules> = {}): GlobalLimitRules {
  return { rate: rate(text), scope: 'instance', shadow: false, ...over };
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
    server: { listen: '127.0.0.1:0', admin: '127.0.0.1:0', adminTokenEnv: null, metricsPublic: false },
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
