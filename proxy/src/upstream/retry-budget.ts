// The retry budget of one cluster (SPEC §10): retries may add at most `share` of the cluster's
// requests over the last 10 s. Counted in ten one-second buckets, so the window slides by the
// second and an outage cannot turn into a retry storm: when every endpoint fails, the extra load
// retries put on the cluster stays at `share`.
import type { Clock } from '../clock.ts';

const BUCKETS = 10;
const BUCKET_MS = 1000;

export class RetryBudget {
  readonly share: number;
  private readonly clock: Clock;
  private readonly requests = new Float64Array(BUCKETS);
  private readonly retries = new Float64Array(BUCKETS);
  /** Index of the bucket counted into, and the second it stands for. */
  private head = 0;
  private headSecond: number;
  private requestSum = 0;
  private retrySum = 0;

  constructor(share: number, clock: Clock) {
    this.share = share;
    this.clock = clock;
    this.headSecond = Math.floor(clock.now() / BUCKET_MS);
  }

  /** A request reached the cluster (its first attempt). */
  request(): void {
    this.advance();
    this.requests[this.head]++;
    this.requestSum++;
  }

  /** Takes one retry from the budget; false when it would exceed the share. */
  tryRetry(): boolean {
    this.advance();
    if (this.retrySum + 1 > this.share * this.requestSum) return false;
    this.retries[this.head]++;
    this.retrySum++;
    return true;
  }

  /** Requests and retries counted in the window now (for tests and /admin/clusters). */
  window(): { requests: number; retries: number } {
    this.advance();
    return { requests: this.requestSum, retries: this.retrySum };
  }

  private advance(): void {
    const second = Math.floor(this.clock.now() / BUCKET_MS);
    let steps = second - this.headSecond;
    if (steps <= 0) return;
    if (steps > BUCKETS) steps = BUCKETS;
    for (let i = 0; i < steps; i++) {
      this.head = this.head + 1 === BUCKETS ? 0 : this.head + 1;
      this.requestSum -= this.requests[this.head];
      this.retrySum -= this.retries[this.head];
      this.requests[this.head] = 0;
      this.retries[this.head] = 0;
    }
    this.headSecond = second;
  }
}
