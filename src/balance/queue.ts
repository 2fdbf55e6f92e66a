// A balanced target's request queue: P2C pick when ready, else a bounded FIFO wait with fail-fast.
import type { Endpoint } from './endpoint.js';
import { EndpointSet } from './endpoint-set.js';
import type { EndpointSetOptions } from './endpoint-set.js';
import { BalancerClosedError, FailFastError, LoadShedError } from './errors.js';
import { WaitList } from './wait-list.js';
import type { Waiter } from './wait-list.js';
import type { QueueConfig } from '../config/types.js';
import { silentLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';

export interface BalancerOptions<M> extends Omit<EndpointSetOptions<M>, 'onReady'> {
  /** Policy `Queue{capacity, failfast_timeout}`, else the proxy's queue defaults. */
  readonly queue: QueueConfig;
  readonly logger?: Logger;
}

/**
 * `pick(signal?)` contract:
 * - An endpoint is ready ⇒ the P2C choice, returned synchronously (no promise is made).
 * - Otherwise a promise, settled in one of these ways:
 *   - resolves with an endpoint once one becomes ready; waiters are served in FIFO order
 *     (first to wait, first resolved), each with its own P2C pick;
 *   - rejects with LoadShedError at once if `queue.capacity` requests already wait;
 *   - rejects with FailFastError when, since a request first had to wait, no endpoint has
 *     been ready for `queue.failfastTimeoutMs` (even if that request has since given up, as
 *     in linkerd2-proxy): every waiter fails and so does every new pick, at once, until an
 *     endpoint is ready again, which ends fail-fast;
 *   - rejects with `signal.reason` if the signal aborts first (the waiter leaves the queue);
 *   - rejects with BalancerClosedError after `close()`.
 * Errors are always delivered as a rejected promise, never thrown.
 * The caller sends the request to the endpoint at once: `ep.start()` for load tracking and,
 * with failure accrual on, `ep.recordOutcome()` when the response is classified.
 */
export class Balancer<M> {
  readonly endpoints: EndpointSet<M>;
  private readonly queue: QueueConfig;
  private readonly log: Logger;
  private readonly waiters = new WaitList<Endpoint<M>>();
  private failingFast = false;
  private isClosed = false;
  private cancelTimer: (() => void) | undefined;

  constructor(private readonly options: BalancerOptions<M>) {
    this.queue = options.queue;
    this.log = options.logger ?? silentLogger;
    this.endpoints = new EndpointSet<M>({ ...options, onReady: () => this.becameReady() });
  }

  /** Requests waiting for an endpoint. */
  get waiting(): number {
    return this.waiters.size;
  }

  get inFailFast(): boolean {
    return this.failingFast;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  pick(signal?: AbortSignal): Endpoint<M> | Promise<Endpoint<M>> {
    const ep = this.endpoints.pick();
    if (ep !== undefined) return ep;
    return this.enqueue(signal);
  }

  /** Fails waiters and later picks with BalancerClosedError and removes every endpoint. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.stopTimer();
    this.failAll(() => new BalancerClosedError());
    this.endpoints.close();
  }

  private enqueue(signal: AbortSignal | undefined): Promise<Endpoint<M>> {
    if (this.isClosed) return Promise.reject(new BalancerClosedError());
    if (this.failingFast) return Promise.reject(new FailFastError());
    if (this.waiters.size >= this.queue.capacity) return Promise.reject(new LoadShedError());
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<Endpoint<M>>((resolve, reject) => {
      this.waiters.push(resolve, reject, signal);
      this.armTimer();
    });
  }

  private becameReady(): void {
    this.stopTimer();
    if (this.failingFast) {
      this.failingFast = false;
      this.log.info('Service has recovered');
    }
    while (this.waiters.size > 0) {
      const ep = this.endpoints.pick();
      if (ep === undefined) break;
      (this.waiters.shift() as Waiter<Endpoint<M>>).resolve(ep);
    }
    // Only a single probation probe was admitted: the rest wait for a fresh timeout.
    if (this.waiters.size > 0) this.armTimer();
  }

  private armTimer(): void {
    if (this.cancelTimer !== undefined) return;
    this.cancelTimer = this.options.clock.setTimer(this.queue.failfastTimeoutMs, () => {
      this.cancelTimer = undefined;
      if (this.endpoints.readyCount > 0 || this.isClosed) return;
      this.failingFast = true;
      this.log.warn('Service entering failfast', {
        timeout_ms: this.queue.failfastTimeoutMs,
        waiting: this.waiters.size,
      });
      this.failAll(() => new FailFastError());
    });
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private failAll(error: () => Error): void {
    for (let w = this.waiters.shift(); w !== undefined; w = this.waiters.shift()) w.reject(error());
  }
}
