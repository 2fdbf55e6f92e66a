// The live endpoints of one balanced target, kept in step with Destination.Get updates.
import { Endpoint } from './endpoint.js';
import type { EndpointInit } from './endpoint.js';
import type { FailureAccrualConfig } from './failure-accrual.js';
import { P2c } from './p2c.js';
import { DEFAULT_PEAK_EWMA } from './peak-ewma.js';
import type { PeakEwmaConfig } from './peak-ewma.js';
import { sameMetadata } from './same-metadata.js';
import type { Clock } from '../core/clock.js';

/** One endpoint as discovery reports it. */
export interface EndpointUpdate<M> {
  /** `ip:port` (IPv6 as `[ip]:port`). */
  readonly addr: string;
  readonly metadata: M;
}

export interface EndpointSetOptions<M> {
  readonly clock: Clock;
  /** Uniform in [0, 1): P2C choices and backoff jitter. Default Math.random. */
  readonly random?: () => number;
  /** Default: 30ms default RTT, 10s decay. */
  readonly peakEwma?: PeakEwmaConfig;
  /** Default: none. */
  readonly failureAccrual?: FailureAccrualConfig | undefined;
  /**
   * Whether a new endpoint is ready before the connection layer says otherwise. Default true
   * (HTTP/1 and opaque connect per request); pass false where a connection must come up
   * first (HTTP/2) and call `setConnected(true)` when it does.
   */
  readonly initiallyConnected?: boolean;
  /** Whether an `add` for a known address changes nothing. Default: structural equality. */
  readonly sameMetadata?: (a: M, b: M) => boolean;
  /** A new endpoint joined (e.g. to start connecting it). */
  readonly onAdded?: (ep: Endpoint<M>) => void;
  /** An endpoint left (e.g. to close its idle connections). */
  readonly onRemoved?: (ep: Endpoint<M>) => void;
  /** The set went from no ready endpoint to at least one (after a whole update is applied). */
  readonly onReady?: () => void;
}

/**
 * Endpoints keyed by address, with the ready ones in a P2C array. Updates are applied whole
 * before `onReady` fires, so waiters drained by it see every endpoint of the update. A
 * removed endpoint is flagged and dropped from rotation; requests holding it are unaffected.
 */
export class EndpointSet<M> {
  private readonly byAddr = new Map<string, Endpoint<M>>();
  private readonly readySet: P2c<Endpoint<M>>;
  private readonly init: EndpointInit<M>;
  private readonly same: (a: M, b: M) => boolean;
  private updating = false;
  private closed = false;

  constructor(private readonly options: EndpointSetOptions<M>) {
    const random = options.random ?? Math.random;
    this.readySet = new P2c<Endpoint<M>>((ep, now) => ep.load.cost(now), random);
    this.same = options.sameMetadata ?? sameMetadata;
    this.init = {
      clock: options.clock,
      random,
      peakEwma: options.peakEwma ?? DEFAULT_PEAK_EWMA,
      failureAccrual: options.failureAccrual,
      connected: options.initiallyConnected ?? true,
      readinessChanged: (ep) => this.readinessChanged(ep),
    };
  }

  /** Number of endpoints, ready or not. */
  get size(): number {
    return this.byAddr.size;
  }

  get readyCount(): number {
    return this.readySet.size;
  }

  get(addr: string): Endpoint<M> | undefined {
    return this.byAddr.get(addr);
  }

  values(): IterableIterator<Endpoint<M>> {
    return this.byAddr.values();
  }

  /**
   * P2C over the ready endpoints at the clock's monotonic time; undefined when none is ready.
   * The caller dispatches a request to the result (in probation that is the single probe).
   */
  pick(): Endpoint<M> | undefined {
    const ep = this.readySet.pick(this.options.clock.monotonic());
    if (ep !== undefined) ep.notePicked();
    return ep;
  }

  /** Replaces the whole set: unchanged endpoints (same address and metadata) are kept. */
  reset(endpoints: Iterable<EndpointUpdate<M>>): void {
    this.batch(() => {
      const keep = new Set<string>();
      for (const e of endpoints) {
        keep.add(e.addr);
        this.upsert(e);
      }
      for (const [addr, ep] of this.byAddr) if (!keep.has(addr)) this.retire(ep);
    });
  }

  /** Upserts by address; a changed metadata replaces the endpoint (fresh load estimate). */
  add(endpoints: Iterable<EndpointUpdate<M>>): void {
    this.batch(() => {
      for (const e of endpoints) this.upsert(e);
    });
  }

  /** Removes these addresses; unknown ones are ignored. */
  remove(addrs: Iterable<string>): void {
    this.batch(() => {
      for (const addr of addrs) {
        const ep = this.byAddr.get(addr);
        if (ep !== undefined) this.retire(ep);
      }
    });
  }

  /** `no_endpoints`: the service has no endpoints now (whether or not it exists). */
  noEndpoints(): void {
    this.reset([]);
  }

  /** Removes everything (the target is dropped); later updates are ignored. */
  close(): void {
    this.noEndpoints();
    this.closed = true;
  }

  private upsert(e: EndpointUpdate<M>): void {
    const old = this.byAddr.get(e.addr);
    if (old !== undefined && this.same(old.metadata, e.metadata)) return;
    const ep = new Endpoint<M>(e.addr, e.metadata, this.init);
    this.byAddr.set(e.addr, ep);
    if (ep.ready) this.readySet.add(ep);
    // Retired after the new one is in, so the ready count does not dip to zero.
    if (old !== undefined) this.retire(old);
    this.options.onAdded?.(ep);
  }

  private retire(ep: Endpoint<M>): void {
    if (this.byAddr.get(ep.addr) === ep) this.byAddr.delete(ep.addr);
    this.readySet.remove(ep);
    ep.markRemoved();
    this.options.onRemoved?.(ep);
  }

  private readinessChanged(ep: Endpoint<M>): void {
    if (ep.removed) return;
    if (!ep.ready) {
      this.readySet.remove(ep);
      return;
    }
    if (this.readySet.add(ep) && this.readySet.size === 1 && !this.updating) this.options.onReady?.();
  }

  private batch(apply: () => void): void {
    if (this.closed) return;
    if (this.updating) {
      apply();
      return;
    }
    const before = this.readySet.size;
    this.updating = true;
    try {
      apply();
    } finally {
      this.updating = false;
    }
    if (before === 0 && this.readySet.size > 0) this.options.onReady?.();
  }
}
