// Account quota (SPEC §3 Quotas): the account's fleet-wide GCRA bucket in the store, 429
// account_quota when it has no room. Refunded when a later guard refuses: quotas count admitted
// requests only.
import { rejection } from '../reasons.ts';
import type { CounterStore } from '../store/store.ts';
import { accountOf, type CompiledAccount } from './account-table.ts';
import { CONSUMED_ACCOUNT_QUOTA } from './consumed.ts';
import type { Guard, RequestContext, Verdict } from './guard.ts';
import { fixedRejection } from './rejections.ts';

export function accountQuotaGuard(store: CounterStore): Guard {
  return new AccountQuotaGuard(store);
}

class AccountQuotaGuard implements Guard {
  readonly name = 'account_quota';
  private readonly store: CounterStore;

  constructor(store: CounterStore) {
    this.store = store;
  }

  check(ctx: RequestContext): Verdict | Promise<Verdict> {
    const account = accountOf(ctx);
    if (account === null || account.quota === null) return null;
    const waited = this.store.take(account.quota, ctx.startedAt);
    if (typeof waited === 'number') return settle(ctx, account, waited);
    return waited.then((ms) => settle(ctx, account, ms));
  }

  refund(ctx: RequestContext): void {
    if ((ctx.consumed & CONSUMED_ACCOUNT_QUOTA) === 0) return;
    ctx.consumed &= ~CONSUMED_ACCOUNT_QUOTA;
    const quota = accountOf(ctx)?.quota;
    if (quota) this.store.give(quota);
  }
}

const STORE_UNAVAILABLE = fixedRejection('store_unavailable');

function settle(ctx: RequestContext, account: CompiledAccount, waitMs: number): Verdict {
  if (waitMs === 0) {
    ctx.consumed |= CONSUMED_ACCOUNT_QUOTA;
    return null;
  }
  if (waitMs < 0) return STORE_UNAVAILABLE;
  return rejection('account_quota', waitMs, account.quotaLimit);
}
