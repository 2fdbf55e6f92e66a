// Peak-EWMA load estimate of one endpoint (tower's PeakEwma): RTT peaks stick, then decay.
import type { Clock } from '../core/clock.js';

export interface PeakEwmaConfig {
  /** RTT assumed before any sample (policy `PeakEwma.default_rtt`), ms. */
  readonly defaultRttMs: number;
  /** Time constant of the exponential decay (policy `PeakEwma.decay`), ms. */
  readonly decayMs: number;
}

/** The proxy's defaults for profiles, opaque, synthesized and control-plane balancers. */
export const DEFAULT_PEAK_EWMA: PeakEwmaConfig = Object.freeze({ defaultRttMs: 30, decayMs: 10_000 });

export type MonotonicClock = Pick<Clock, 'monotonic'>;

/**
 * Cost = RTT estimate × (in-flight requests + 1).
 *
 * The estimate starts at the default RTT. A sample above the estimate replaces it at once
 * (the peak); a sample at or below it is blended in with weight 1 − exp(−elapsed/decay),
 * where elapsed is the time since the estimate was last touched. Every read of the
 * estimate blends in a zero sample the same way, so an idle endpoint's estimate decays
 * towards 0 and it is tried again — exactly tower's behaviour, which linkerd2-proxy uses.
 */
export class PeakEwma {
  private rttMs: number;
  private updatedAt: number;
  private inFlight = 0;

  constructor(
    private readonly config: PeakEwmaConfig,
    private readonly clock: MonotonicClock,
  ) {
    if (!(config.decayMs > 0)) throw new RangeError(`peak-EWMA decay must be positive, got ${config.decayMs}`);
    if (!(config.defaultRttMs >= 0)) throw new RangeError(`peak-EWMA default RTT must be >= 0, got ${config.defaultRttMs}`);
    this.rttMs = config.defaultRttMs;
    this.updatedAt = clock.monotonic();
  }

  /** Requests started and not yet completed. */
  get pending(): number {
    return this.inFlight;
  }

  /** The RTT estimate in ms at `now`, after idle decay. */
  rttEstimate(now: number = this.clock.monotonic()): number {
    return this.observe(0, now);
  }

  /** The load P2C compares: RTT estimate × (pending + 1). */
  cost(now: number = this.clock.monotonic()): number {
    return this.observe(0, now) * (this.inFlight + 1);
  }

  /**
   * Counts a request as in flight from now. Call `complete()` on the handle when the first
   * byte of the response body arrives or the response ends, whichever is first (linkerd's
   * "pending until first data"); a request that fails must be completed too.
   */
  start(now: number = this.clock.monotonic()): InFlight {
    this.inFlight += 1;
    return new InFlight(this, now);
  }

  /** Used by InFlight.complete: records the sample and ends the in-flight count. */
  settle(sentAt: number, now: number = this.clock.monotonic()): void {
    this.inFlight -= 1;
    this.observe(now > sentAt ? now - sentAt : 0, now);
  }

  private observe(rttMs: number, now: number): number {
    if (rttMs > this.rttMs) {
      this.rttMs = rttMs;
    } else {
      const elapsed = now > this.updatedAt ? now - this.updatedAt : 0;
      const keep = Math.exp(-elapsed / this.config.decayMs);
      this.rttMs = this.rttMs * keep + rttMs * (1 - keep);
    }
    // A caller-supplied stale `now` must not move time backwards.
    if (now > this.updatedAt) this.updatedAt = now;
    return this.rttMs;
  }
}

/** One in-flight request's share of an endpoint's load. */
export class InFlight {
  private done = false;

  constructor(
    private readonly owner: PeakEwma,
    /** Monotonic ms when the request was dispatched. */
    readonly sentAt: number,
  ) {}

  get completed(): boolean {
    return this.done;
  }

  /** Records the RTT (now − sentAt) and stops counting the request; later calls do nothing. */
  complete(now?: number): void {
    if (this.done) return;
    this.done = true;
    this.owner.settle(this.sentAt, now);
  }
}
