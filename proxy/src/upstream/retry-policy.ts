// What a cluster's `retry` rule allows (SPEC §10), compiled once per cluster: which failures and
// statuses are retried, how many tries in all, and the budget that bounds the extra load.
import type { Clock } from '../clock.ts';
import type { RetryRules } from '../rules/types.ts';
import type { ForwardError } from './forward-errors.ts';
import { RetryBudget } from './retry-budget.ts';

/** A counter child resolved at compile time (sluice_retries_total{cluster,result}). */
export interface RetryCounter {
  inc(): void;
}

export interface RetryCounters {
  readonly sent: RetryCounter;
  readonly budgetExhausted: RetryCounter;
}

const NOOP: RetryCounter = { inc() {} };
export const UNCOUNTED: RetryCounters = { sent: NOOP, budgetExhausted: NOOP };

/** Only these methods may be sent twice (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** A body at most this large (and complete) is buffered so that it can be sent again. */
export const MAX_RETRY_BODY = 64 * 1024;

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

export class RetryPolicy {
  readonly attempts: number;
  readonly budget: RetryBudget;
  readonly counters: RetryCounters;
  private readonly statuses: Uint8Array;
  private readonly onConnect: boolean;
  private readonly onReset: boolean;
  private readonly onTimeout: boolean;

  constructor(rules: RetryRules, clock: Clock, counters: RetryCounters = UNCOUNTED) {
    this.attempts = rules.attempts;
    this.budget = new RetryBudget(rules.budget, clock);
    this.counters = counters;
    this.statuses = new Uint8Array(600);
    for (const status of rules.statuses) this.statuses[status] = 1;
    this.onConnect = rules.onConnectFailure;
    this.onReset = rules.onReset;
    this.onTimeout = rules.onTimeout;
  }

  retriesStatus(status: number): boolean {
    return status < 600 && this.statuses[status] === 1;
  }

  retriesError(error: ForwardError | null): boolean {
    if (error === 'connect') return this.onConnect;
    if (error === 'reset') return this.onReset;
    if (error === 'timeout') return this.onTimeout;
    return false;
  }

  /** Takes a retry from the budget, counting what happened. */
  admit(): boolean {
    if (this.budget.tryRetry()) {
      this.counters.sent.inc();
      return true;
    }
    this.counters.budgetExhausted.inc();
    return false;
  }
}
