// Test doubles for the balancer: a manually advanced clock and a seeded PRNG.
import type { Clock } from '../../../src/core/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

/** Time moves only when advance() is called; due timers fire in time order. */
export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return 1_700_000_000_000 + this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(ms, resolve));
  }

  /** Live timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.filter((x) => x.live).length;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers
        .filter((x) => x.live && x.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.live = false;
      this.t = due.at;
      due.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
    this.t = end;
  }
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets promise continuations run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
