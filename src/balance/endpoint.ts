// One balanced endpoint: address, opaque metadata, load estimate, readiness and removal flag.
import { ConsecutiveFailures } from './failure-accrual.js';
import type { FailureAccrualConfig } from './failure-accrual.js';
import { PeakEwma } from './peak-ewma.js';
import type { InFlight, PeakEwmaConfig } from './peak-ewma.js';
import type { Clock } from '../core/clock.js';

/** What an EndpointSet passes when it creates an endpoint. */
export interface EndpointInit<M> {
  readonly clock: Clock;
  readonly random: () => number;
  readonly peakEwma: PeakEwmaConfig;
  readonly failureAccrual: FailureAccrualConfig | undefined;
  readonly connected: boolean;
  /** Tells the owning set that `ready` may have changed. */
  readonly readinessChanged: (ep: Endpoint<M>) => void;
}

/** Told once when discovery removes (or replaces) an endpoint, e.g. to stop watching its connection. */
export interface EndpointRemovalListener<M> {
  endpointRemoved(ep: Endpoint<M>): void;
}

/**
 * Created by an EndpointSet; callers hold it for the life of a request. Ready means: still
 * in the set, connected (as the connection layer last reported), and not ejected by failure
 * accrual. Metadata never changes: an `add` with different metadata replaces the endpoint.
 */
export class Endpoint<M> {
  readonly load: PeakEwma;
  private connected: boolean;
  private isRemoved = false;
  private readonly accrual: ConsecutiveFailures | undefined;
  private readonly readinessChanged: (ep: Endpoint<M>) => void;
  /** Made on first use: most endpoints never get one. */
  private removalListeners: Set<EndpointRemovalListener<M>> | undefined;

  constructor(
    /** `ip:port` (IPv6 as `[ip]:port`), the set's key. */
    readonly addr: string,
    readonly metadata: M,
    init: EndpointInit<M>,
  ) {
    this.load = new PeakEwma(init.peakEwma, init.clock);
    this.connected = init.connected;
    this.readinessChanged = init.readinessChanged;
    this.accrual =
      init.failureAccrual === undefined
        ? undefined
        : new ConsecutiveFailures(init.failureAccrual, init.clock, init.random, () => this.changed());
  }

  /** Whether the balancer may pick this endpoint now. */
  get ready(): boolean {
    return !this.isRemoved && this.connected && (this.accrual === undefined || this.accrual.admitting);
  }

  /**
   * Discovery removed (or replaced) this endpoint. Requests already sent to it carry on;
   * the caller should close its idle connections and not start new ones.
   */
  get removed(): boolean {
    return this.isRemoved;
  }

  /** Whether failure accrual has taken it out of normal rotation (ejected or on probation). */
  get ejected(): boolean {
    return this.accrual !== undefined && this.accrual.ejected;
  }

  /** The connection layer reports whether requests can be sent (e.g. the H2 connection is up). */
  setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.changed();
  }

  /** `l` hears of this endpoint's removal (at once if it is already removed); adding twice is a no-op. */
  addRemovalListener(l: EndpointRemovalListener<M>): void {
    if (this.isRemoved) {
      l.endpointRemoved(this);
      return;
    }
    (this.removalListeners ??= new Set()).add(l);
  }

  removeRemovalListener(l: EndpointRemovalListener<M>): void {
    this.removalListeners?.delete(l);
  }

  /** Starts load tracking for one request; see PeakEwma.start for when to complete it. */
  start(now?: number): InFlight {
    return this.load.start(now);
  }

  /**
   * Feeds failure accrual with one response's classification (success or failure per the
   * route's response classes). With accrual on, report every request picked, failures included.
   */
  recordOutcome(success: boolean): void {
    if (this.accrual !== undefined && !this.isRemoved) this.accrual.record(success);
  }

  /** Used by EndpointSet when the balancer hands this endpoint to a request. */
  notePicked(): void {
    if (this.accrual !== undefined) this.accrual.picked();
  }

  /** Used by EndpointSet on removal. */
  markRemoved(): void {
    if (this.isRemoved) return;
    this.isRemoved = true;
    this.accrual?.dispose();
    const ls = this.removalListeners;
    this.removalListeners = undefined;
    if (ls !== undefined) for (const l of ls) l.endpointRemoved(this);
  }

  private changed(): void {
    if (!this.isRemoved) this.readinessChanged(this);
  }
}
