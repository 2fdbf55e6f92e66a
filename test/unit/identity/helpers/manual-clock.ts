// A Clock whose time moves only when the test says so; records every sleep it was asked for.
import type { Clock } from '../../../../src/core/clock.js';

interface Pending {
  readonly at: number;
  readonly fire: () => void;
}

export class ManualClock implements Clock {
  private nowMs: number;
  private pending: Pending[] = [];
  /** Durations passed to sleep()/setTimer(), in order. */
  readonly requested: number[] = [];
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  constructor(startMs = Date.now()) {
    this.nowMs = startMs;
  }

  now(): number { return this.nowMs; }
  monotonic(): number { return this.nowMs; }

  setTimer(ms: number, fn: () => void): () => void {
    const entry: Pending = { at: this.nowMs + ms, fire: fn };
    this.pending.push(entry);
    this.record(ms);
    return () => { this.pending = this.pending.filter((p) => p !== entry); };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const cancel = this.setTimer(ms, resolve);
      signal?.addEventListener('abort', () => { cancel(); resolve(); }, { once: true });
    });
  }

  private record(ms: number): void {
    this.requested.push(ms);
    for (const w of [...this.waiters]) {
      if (this.requested.length >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves once `n` sleeps/timers have been requested in total. */
  waitForSleeps(n: number): Promise<void> {
    if (this.requested.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Moves time forward, firing every timer that falls due. */
  advance(ms: number): void {
    this.nowMs += ms;
    const due = this.pending.filter((p) => p.at <= this.nowMs);
    this.pending = this.pending.filter((p) => p.at > this.nowMs);
    for (const p of due) p.fire();
  }
}
