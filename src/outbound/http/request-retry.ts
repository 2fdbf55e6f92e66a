// The retry hooks of one request (spec §5.5, upstream linkerd-http-retry): which outcomes get
// another attempt, the limit, the backoff between attempts, each attempt's head timeout, and
// the route's retry counters. One per connection, reset for each request that has a policy.
import { ExpBackoff } from '../../core/backoff.js';
import type { ForwardRetry, RequestHead, ResponseHead, RouteDecision } from '../../http/h1/index.js';
import { retryableResponse, type RetryPolicy } from './retry-policy.js';
import type { RetrySeries } from './route-metrics.js';

export interface RetryOwner {
  /** The current attempt is dropped: its response (status) or its head timeout (undefined). */
  attemptDiscarded(status: number | undefined): void;
  /** The next attempt's decision once `delayMs` has passed (a new backend and endpoint pick). */
  nextAttempt(delayMs: number): Promise<RouteDecision>;
}

export class RequestRetry implements ForwardRetry {
  maxRequestBytes = 0;
  attemptTimeoutMs: number | undefined = undefined;
  /** 1-based number of the attempt in progress. */
  attempt = 1;
  private policy: RetryPolicy | undefined;
  private series: RetrySeries | undefined;
  private left = 0;
  private backoff: ExpBackoff | undefined;

  constructor(
    private readonly owner: RetryOwner,
    private readonly random: () => number,
  ) {}

  reset(policy: RetryPolicy, series: RetrySeries): void {
    this.policy = policy;
    this.series = series;
    this.maxRequestBytes = policy.maxRequestBytes;
    // The first attempt always has the retry timeout; later ones only while retries remain.
    this.attemptTimeoutMs = policy.timeoutMs;
    this.attempt = 1;
    this.left = policy.maxRetries;
    this.backoff = undefined;
  }

  /** A retryable failure before any body was read (fail-fast): another attempt if the limit allows. */
  retryFailFast(): Promise<RouteDecision> | undefined {
    if (this.left === 0) {
      this.series!.limitExceeded.inc();
      return undefined;
    }
    return this.scheduleNext();
  }

  retryResponse(res: ResponseHead, _req: RequestHead): Promise<RouteDecision> | undefined {
    if (!retryableResponse(this.policy!, res)) {
      if (this.attempt > 1) this.series!.successes.inc();
      return undefined;
    }
    return this.again(res.status);
  }

  retryTimeout(_req: RequestHead): Promise<RouteDecision> | undefined {
    return this.again(undefined);
  }

  private again(status: number | undefined): Promise<RouteDecision> | undefined {
    if (this.left === 0) {
      this.series!.limitExceeded.inc();
      return undefined;
    }
    this.owner.attemptDiscarded(status);
    return this.scheduleNext();
  }

  private scheduleNext(): Promise<RouteDecision> {
    const p = this.policy!;
    this.left--;
    this.attempt++;
    // Upstream drops the head timeout on the last attempt: nothing waits on a retry decision then.
    this.attemptTimeoutMs = this.attempt <= p.maxRetries ? p.timeoutMs : undefined;
    this.series!.requests.inc();
    const delay = p.backoff === undefined ? 0 : (this.backoff ??= new ExpBackoff(p.backoff, this.random)).next();
    return this.owner.nextAttempt(delay);
  }
}
