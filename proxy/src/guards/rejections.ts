// Counting a refusal once, wherever it happens after identification: sluice_rejections_total
// {account,class,reason} and the account's usage profile. runGuards calls it for every guard's
// refusal; the caller guard counts its own 401s (before there is an account to count against).
import { rejection, type Reason, type Rejection } from '../reasons.ts';
import { accountOf } from './account-table.ts';
import type { RequestContext } from './guard.ts';

export function recordRejection(ctx: RequestContext, reason: Reason): void {
  accountOf(ctx)?.countRejection(reason);
}

/** A frozen rejection without retry or policy, made once and answered many times. */
export function fixedRejection(reason: Reason): Rejection {
  return Object.freeze(rejection(reason));
}
