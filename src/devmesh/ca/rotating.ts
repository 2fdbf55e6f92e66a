// A certificate that replaces itself halfway through its life (as SPIRE rotates SVIDs), telling its listeners.
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import type { Logger } from '../../log/logger.js';

const RETRY_MS = 10_000;

export class RotatingCertificate<T extends { readonly notAfterMs: number }> {
  private cancelTimer: (() => void) | undefined;
  private readonly listeners = new Set<(value: T) => void>();
  private stopped = false;

  private constructor(
    private value: T,
    private readonly mint: () => Promise<T>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  /** Mints the first certificate (errors propagate) and schedules its renewal. */
  static async start<T extends { readonly notAfterMs: number }>(mint: () => Promise<T>, clock: Clock, logger: Logger, what: string): Promise<RotatingCertificate<T>> {
    const rotating = new RotatingCertificate(await mint(), mint, clock, logger, what);
    rotating.schedule();
    return rotating;
  }

  current(): T {
    return this.value;
  }

  /** Called with each new certificate; returns an unsubscribe function. */
  onRotate(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.listeners.clear();
  }

  private schedule(delayMs = Math.max(1000, (this.value.notAfterMs - this.clock.now()) / 2)): void {
    if (this.stopped) return;
    this.cancelTimer = this.clock.setTimer(delayMs, () => void this.rotate());
  }

  private async rotate(): Promise<void> {
    this.cancelTimer = undefined;
    let next: T;
    try {
      next = await this.mint();
    } catch (err) {
      this.logger.error(`could not renew the ${this.what} certificate; retrying`, { error: messageOf(err) });
      this.schedule(RETRY_MS);
      return;
    }
    if (this.stopped) return;
    this.value = next;
    this.logger.debug(`renewed the ${this.what} certificate`, { expiry: new Date(next.notAfterMs).toISOString() });
    for (const l of [...this.listeners]) l(next);
    this.schedule();
  }
}
