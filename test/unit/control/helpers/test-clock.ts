// A Clock that only moves when a test says so, plus polling helpers for tests that also wait on real sockets.
import type { Clock } from '../../../../src/core/clock.js';

interface Timer {
  readonly at: number;
  readonly ms: number;
  readonly fire: () => void;
}

export class TestClock implements Clock {
  private nowMs = 1_000_000;
  private timers: Timer[] = [];
  /** Every delay a timer was armed with, in order. */
  readonly armed: number[] = [];

  now(): number {
    return this.nowMs;
  }

  monotonic(): number {
    return this.nowMs;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const t: Timer = { at: this.nowMs + ms, ms, fire: fn };
    this.timers.push(t);
    this.armed.push(ms);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.setTimer(ms, resolve);
      signal?.addEventListener('abort', () => (cancel(), resolve()), { once: true });
    });
  }

  /** Delays of the timers waiting to fire. */
  get pending(): number[] {
    return this.timers.map((t) => t.ms);
  }

  /** Moves time forward by `ms`, firing what falls due (in due order). */
  advance(ms: number): void {
    this.nowMs += ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.nowMs).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) return;
      this.timers = this.timers.filter((t) => t !== due);
      due.fire();
    }
  }

  /** Jumps to the earliest timer and fires it; false when none is armed. */
  fireNext(): boolean {
    const next = [...this.timers].sort((a, b) => a.at - b.at)[0];
    if (next === undefined) return false;
    this.advance(Math.max(0, next.at - this.nowMs));
    return true;
  }
}

/** Polls `cond` (real time) until it holds; throws naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Fires the clock's timers one by one (with real pauses for the network) until `cond` holds. */
export async function driveUntil(clock: TestClock, cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out driving the clock until ${what}`);
    clock.fireNext();
    await new Promise((r) => setTimeout(r, 20));
  }
}
