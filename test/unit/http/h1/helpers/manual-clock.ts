// A Clock that moves only when the test advances it.
import type { Clock } from '../../../../../src/core/clock.js';

export class ManualClock implements Clock {
  private t = 1_000_000;
  private timers: { at: number; fn: () => void }[] = [];

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const e = { at: this.t + ms, fn };
    this.timers.push(e);
    return () => {
      this.timers = this.timers.filter((x) => x !== e);
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(ms, resolve));
  }

  /** Timers armed and not yet fired. */
  get armed(): number {
    return this.timers.length;
  }

  /** Moves time without firing timers (an event loop too busy to run them). */
  jump(ms: number): void {
    this.t += ms;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
  }
}
