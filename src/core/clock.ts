// Time as an injectable edge: wall clock, monotonic clock and timers, so tests can drive time.

export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic milliseconds, for measuring durations. */
  monotonic(): number;
  /** Runs fn after ms; returns a cancel function. Timers never keep the process alive. */
  setTimer(ms: number, fn: () => void): () => void;
  /** Resolves after ms (unref'd). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Node fires longer timeouts after 1ms; longer waits are chained in steps of this size. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(ms, fn) {
    let t: NodeJS.Timeout;
    const arm = (left: number): void => {
      t = setTimeout(left > MAX_TIMER_MS ? () => arm(left - MAX_TIMER_MS) : fn, Math.min(left, MAX_TIMER_MS));
      t.unref();
    };
    arm(ms);
    return () => clearTimeout(t);
  },
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const cancel = systemClock.setTimer(ms, done);
      function done(): void {
        cancel();
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};
