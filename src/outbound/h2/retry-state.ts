// One HTTP/2 request's retry budget (spec §5.5): attempts left, the backoff between them, each
// attempt's head timeout, and the route's retry counters.
import { ExpBackoff } from '../../core/backoff.js';
import type { RetrySeries } from '../http/route-metrics.js';
import type { RetryPolicy } from './retry-policy.js';

export class RetryState {
  /** 1-based number of the attempt in progress. */
  attempt = 1;
  private left: number;
  private backoff: ExpBackoff | undefined;

  constructor(
    readonly policy: RetryPolicy,
    private readonly series: RetrySeries,
    private readonly random: () => number,
  ) {
    this.left = policy.maxRetries;
  }

  /**
   * The current attempt's deadline for its response head: the first attempt always has it,
   * later ones only while retries remain (upstream drops it once nothing waits on a decision).
   */
  headTimeoutMs(): number | undefined {
    return this.attempt === 1 || this.attempt <= this.policy.maxRetries ? this.policy.timeoutMs : undefined;
  }

  /** Claims the next attempt: its backoff delay, or undefined (counted) when the limit is reached. */
  next(): number | undefined {
    if (this.left === 0) {
      this.series.limitExceeded.inc();
      return undefined;
    }
    this.left--;
    this.attempt++;
    this.series.requests.inc();
    const b = this.policy.backoff;
    return b === undefined ? 0 : (this.backoff ??= new ExpBackoff(b, this.random)).next();
  }

  /** A final response that needs no retry; counted as a retry success after a retry. */
  settled(): void {
    if (this.attempt > 1) this.series.successes.inc();
  }
}
