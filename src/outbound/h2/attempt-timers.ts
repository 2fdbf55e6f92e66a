// The deadlines of one attempt: the route's response timeout and the retry policy's per-attempt
// timeout for the response head, armed when the attempt's stream opens and cleared as it ends.
import type { Clock } from '../../core/clock.js';

export interface AttemptTimerOwner {
  /** The route's response timeout (`ms`) passed. */
  responseTimedOut(ms: number): void;
  /** The retry policy's per-attempt timeout (`ms`) passed before the head. */
  headTimedOut(ms: number): void;
}

export class AttemptTimers {
  private cancel: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly owner: AttemptTimerOwner,
  ) {}

  arm(responseMs: number | undefined, headMs: number | undefined): void {
    const clock = this.clock;
    const owner = this.owner;
    const cancels: (() => void)[] = [];
    if (responseMs !== undefined) cancels.push(clock.setTimer(responseMs, () => owner.responseTimedOut(responseMs)));
    if (headMs !== undefined) cancels.push(clock.setTimer(headMs, () => owner.headTimedOut(headMs)));
    this.cancel = cancels.length === 0 ? undefined : () => cancels.forEach((c) => c());
  }

  clear(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}
