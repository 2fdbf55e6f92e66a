// Consecutive-failures circuit breaker for one endpoint (policy FailureAccrual.consecutive_failures).
import { ExpBackoff } from '../core/backoff.js';
import type { BackoffConfig } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';

export interface ConsecutiveFailuresConfig {
  readonly kind: 'consecutive-failures';
  /** Failures in a row that eject the endpoint; 0 never ejects. */
  readonly maxFailures: number;
  /** Ejection time: min doubled after each failed probe, capped at max, plus jitter. */
  readonly backoff: BackoffConfig;
}

/** Failure accrual settings; undefined (the default) means no accrual. */
export type FailureAccrualConfig = ConsecutiveFailuresConfig;

type State = 'admitting' | 'ejected' | 'probation' | 'probing';

/**
 * admitting —maxFailures in a row→ ejected —backoff elapses→ probation (admits one request)
 * —that request is picked→ probing —success→ admitting, —failure→ ejected (longer backoff).
 * Outcomes reported while ejected are stragglers and ignored; in probation any outcome decides,
 * as in linkerd2-proxy.
 */
export class ConsecutiveFailures {
  private state: State = 'admitting';
  private failures = 0;
  private cancelTimer: (() => void) | undefined;
  private readonly backoff: ExpBackoff;

  constructor(
    private readonly config: ConsecutiveFailuresConfig,
    private readonly clock: Pick<Clock, 'setTimer'>,
    random: () => number,
    /** Called whenever `admitting` changes. */
    private readonly onChange: () => void,
  ) {
    this.backoff = new ExpBackoff(config.backoff, random);
  }

  /** Whether the endpoint may be picked now. */
  get admitting(): boolean {
    return this.state === 'admitting' || this.state === 'probation';
  }

  /** Whether the breaker has the endpoint out of rotation (ejected or awaiting its probe). */
  get ejected(): boolean {
    return this.state !== 'admitting';
  }

  /** A request was sent to the endpoint; in probation it is the probe, so admit no more. */
  picked(): void {
    if (this.state !== 'probation') return;
    this.state = 'probing';
    this.onChange();
  }

  record(success: boolean): void {
    switch (this.state) {
      case 'admitting':
        if (success) {
          this.failures = 0;
        } else {
          this.failures += 1;
          if (this.config.maxFailures > 0 && this.failures >= this.config.maxFailures) this.eject();
        }
        return;
      case 'ejected':
        return;
      case 'probation':
      case 'probing':
        if (success) {
          this.state = 'admitting';
          this.failures = 0;
          this.backoff.reset();
          this.onChange();
        } else {
          this.eject();
        }
        return;
    }
  }

  /** Stops the backoff timer (the endpoint was removed). */
  dispose(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private eject(): void {
    const wasAdmitting = this.admitting;
    this.state = 'ejected';
    this.failures = 0;
    this.cancelTimer = this.clock.setTimer(this.backoff.next(), () => {
      this.cancelTimer = undefined;
      this.state = 'probation';
      this.onChange();
    });
    if (wasAdmitting) this.onChange();
  }
}
