// The deadlines of one forwarded request (spec §5.5): the request timeout over all attempts, and
// per attempt the response timeout and the retry policy's head timeout. Handlers are bound once.
import type { Clock } from '../../core/clock.js';

export interface TimerOwner {
  requestTimedOut(): void;
  responseTimedOut(): void;
  attemptTimedOut(): void;
}

export class ExchangeTimers {
  private cancelRequest: (() => void) | undefined;
  private cancelResponse: (() => void) | undefined;
  private cancelAttempt: (() => void) | undefined;

  constructor(
    private readonly owner: TimerOwner,
    private readonly clock: Clock,
  ) {}

  startRequest(ms: number): void {
    this.cancelRequest?.();
    this.cancelRequest = this.clock.setTimer(ms, this.onRequest);
  }

  /** Arms the response timeout unless it already runs (it starts at whichever comes first). */
  startResponse(ms: number): void {
    this.cancelResponse ??= this.clock.setTimer(ms, this.onResponse);
  }

  startAttempt(ms: number): void {
    this.cancelAttempt ??= this.clock.setTimer(ms, this.onAttempt);
  }

  /** The head arrived: nothing waits on the attempt timeout any more. */
  stopAttempt(): void {
    this.cancelAttempt?.();
    this.cancelAttempt = undefined;
  }

  /** The attempt is over; the request timeout runs on across attempts. */
  stopAttemptTimers(): void {
    this.stopAttempt();
    this.cancelResponse?.();
    this.cancelResponse = undefined;
  }

  stopAll(): void {
    this.stopAttemptTimers();
    this.cancelRequest?.();
    this.cancelRequest = undefined;
  }

  private readonly onRequest = (): void => {
    this.cancelRequest = undefined;
    this.owner.requestTimedOut();
  };

  private readonly onResponse = (): void => {
    this.cancelResponse = undefined;
    this.owner.responseTimedOut();
  };

  private readonly onAttempt = (): void => {
    this.cancelAttempt = undefined;
    this.owner.attemptTimedOut();
  };
}
