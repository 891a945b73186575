// Identifies the caller account (SPEC §3 Caller): `x-caller-account` names it; with `auth: key`
// the SHA-256 of `x-caller-key` must equal the registered hash (compared in constant time).
// Missing or unknown accounts are refused 401 unknown_caller, or share the 'unknown' account of
// the configured class; a wrong or missing key is 401 bad_key.
import { hash } from 'node:crypto';
import { bounded, compileIdentity, type IdentityOf } from '../accounts/identity.ts';
import type { UsageRegistry } from '../accounts/usage.ts';
import type { Metrics } from '../metrics.ts';
import type { Rules } from '../rules/types.ts';
import type { AccountTable, CompiledAccount } from './account-table.ts';
import type { Guard, RequestContext, Verdict } from './guard.ts';
import { fixedRejection, UnidentifiedCaller } from './rejections.ts';
import { CallTemplates } from './call-templates.ts';

const UNKNOWN_CALLER = fixedRejection('unknown_caller');
const BAD_KEY = fixedRejection('bad_key');

export interface CallerGuardDeps {
  readonly metrics: Metrics;
  /** Record each call's route template in the usage profile (when no routes guard does). */
  readonly recordRoutes: boolean;
}

export function callerGuard(rules: Rules, table: AccountTable, deps: CallerGuardDeps): Guard {
  return new CallerGuard(rules, table, deps);
}

class CallerGuard implements Guard {
  readonly name = 'caller';
  private readonly byId: ReadonlyMap<string, CompiledAccount>;
  private readonly unknown: CompiledAccount | null;
  private readonly checkKeys: boolean;
  private readonly recordRoutes: boolean;
  private readonly unidentified: UnidentifiedCaller;
  private readonly templates = new CallTemplates();
  private readonly identityOf: IdentityOf;
  private readonly usage: UsageRegistry;

  constructor(rules: Rules, table: AccountTable, deps: CallerGuardDeps) {
    this.identityOf = compileIdentity(rules.callers.identity);
    this.usage = table.usage;
    this.byId = table.byId;
    this.unknown = table.unknown;
    this.checkKeys = rules.callers.auth === 'key';
    this.recordRoutes = deps.recordRoutes;
    // An unidentified caller has no account or class to label with: the bounded 'unknown'/'none'.
    const rejections = deps.metrics.rejections;
    this.unidentified = new UnidentifiedCaller((reason) => rejections.labels('unknown', 'none', reason));
  }

  check(ctx: RequestContext): Verdict {
    const headers = ctx.req.headers;
    const name = headers['x-caller-account'];
    let account = typeof name === 'string' ? this.byId.get(name) : undefined;
    if (account === undefined) {
      // The ledger keeps who tried, under the name they sent (bounded in number and length).
      const tried = this.usage.unregistered(typeof name === 'string' ? bounded(name) : '');
      if (tried !== null) {
        tried.seen(ctx.startedAt, ctx.remoteAddress);
        tried.identify(this.identityOf(headers, ctx.remoteAddress));
      }
      if (this.unknown === null) {
        ctx.account = this.unidentified;
        // The ledger of who tried; the pipeline counts the refusal in the metrics.
        tried?.rejected('unknown_caller');
        return UNKNOWN_CALLER;
      }
      account = this.unknown;
    } else if (this.checkKeys && !keyMatches(account, headers['x-caller-key'])) {
      // Counted under the claimed account, in sluice_requests_total as in sluice_rejections_total.
      ctx.accountId = account.id;
      ctx.account = account;
      ctx.className = account.className;
      return BAD_KEY;
    }
    ctx.accountId = account.id;
    ctx.account = account;
    ctx.className = account.className;
    account.usage.seen(ctx.startedAt, ctx.remoteAddress);
    account.usage.identify(this.identityOf(headers, ctx.remoteAddress));
    if (this.recordRoutes) account.usage.route(this.templates.of(ctx.method, ctx.path));
    return null;
  }
}

/**
 * Whether `key` hashes to the account's key_sha256. The key that last did is kept and compared
 * first: SHA-256 through node:crypto was ~1.9 µs a request, the largest cost of key auth in a
 * profile. A key equal to one that hashed right hashes right, so no answer changes.
 */
function keyMatches(account: CompiledAccount, key: string | string[] | undefined): boolean {
  if (!account.hasKey || typeof key !== 'string' || key === '') return false;
  const verified = account.verifiedKey;
  if (verified !== null && sameKey(key, verified)) return true;
  if (!account.keyHashIs(hash('sha256', key, 'buffer'))) return false;
  account.verifiedKey = key;
  return true;
}

/**
 * `given === verified`, in a time that depends on the verified key's length only: every code unit
 * is compared, with no early exit, and a key of another length is compared as the verified key
 * itself, so the time tells neither how much of a key was right nor whether its length was.
 * Encoding both into scratch Buffers for crypto.timingSafeEqual was ~0.4 µs a request in a
 * profile of the forwarding path; this loop over a 16-character key is a few nanoseconds.
 */
export function sameKey(given: string, verified: string): boolean {
  const length = verified.length;
  const compared = given.length === length ? given : verified;
  let diff = given.length ^ length;
  for (let i = 0; i < length; i++) diff |= compared.charCodeAt(i) ^ verified.charCodeAt(i);
  return diff === 0;
}
