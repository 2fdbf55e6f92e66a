// The dispatcher behind each backend: P2C over Destination.Get's endpoints, a fixed forward endpoint, or a failure.
import { Balancer, Endpoint, type EndpointUpdate, type FailureAccrualConfig } from '../../balance/index.js';
import type { Clock } from '../../core/clock.js';
import type { DestinationClient } from '../../discovery/destination-client.js';
import type { DestinationEndpoint, EndpointsView } from '../../discovery/destination-types.js';
import type { Backend } from '../../discovery/outbound-policy-types.js';
import type { Subscription } from '../../discovery/shared-watches.js';
import type { Logger } from '../../log/logger.js';
import type { BackendDispatcher } from '../context.js';
import { BackendFailedError, TargetClosedError } from './errors.js';

/** Where balancers get their endpoints (DestinationClient, or a stand-in). */
export type EndpointSource = Pick<DestinationClient, 'get'>;

export interface DispatcherDeps {
  readonly clock: Clock;
  readonly random?: (() => number) | undefined;
  /** Undefined: balancers never learn an endpoint (requests to them fail fast). */
  readonly destinations: EndpointSource | undefined;
  readonly log: Logger;
}

/** A dispatcher as its target manages it. */
export interface ManagedDispatcher extends BackendDispatcher {
  readonly key: string;
  /**
   * Whether a pick would be answered now: first-available and random-available distributions
   * prefer ready backends, as upstream's distributors pick among backends that are ready.
   */
  readonly ready: boolean;
  readonly closed: boolean;
  /** The backend left the policy: close once no pick is waiting (in-flight picks finish). */
  retire(): void;
  /** Stops discovery and fails waiting picks. */
  close(): void;
}

type Picked = Endpoint<DestinationEndpoint> | Promise<Endpoint<DestinationEndpoint>>;

/** Whether a dispatcher can answer a pick at once; dispatchers that cannot tell count as ready. */
export function dispatcherReady(d: BackendDispatcher): boolean {
  const ready = (d as { readonly ready?: unknown }).ready;
  return ready === undefined || ready === true;
}

export function createDispatcher(
  backend: Backend,
  key: string,
  accrual: FailureAccrualConfig | undefined,
  deps: DispatcherDeps,
  onClosed: (d: ManagedDispatcher) => void,
): ManagedDispatcher {
  const dispatch = backend.dispatch;
  switch (dispatch.kind) {
    case 'balancer':
      return new BalancedDispatcher(backend, key, dispatch.path, accrual, deps, onClosed);
    case 'forward':
      return new BalancedDispatcher(backend, key, dispatch.endpoint, undefined, deps, onClosed);
    case 'fail':
      return new FailingDispatcher(backend, key, () => new BackendFailedError(dispatch.message), onClosed);
  }
}

/** Stands in for every backend of a target that has been closed. */
export function closedDispatcher(backend: Backend, target: string): ManagedDispatcher {
  return new FailingDispatcher(backend, '', () => new TargetClosedError(target), () => undefined);
}

/**
 * A balancer fed by Destination.Get(path), or holding one fixed endpoint (forward backends:
 * the same queue and load tracking, with a pick that is always immediate).
 */
class BalancedDispatcher implements ManagedDispatcher {
  private readonly balancer: Balancer<DestinationEndpoint>;
  private readonly log: Logger;
  private subscription: Subscription<EndpointsView> | undefined;
  private waiting = 0;
  private retired = false;
  private isClosed = false;

  constructor(
    readonly backend: Backend,
    readonly key: string,
    source: string | DestinationEndpoint,
    accrual: FailureAccrualConfig | undefined,
    deps: DispatcherDeps,
    private readonly onClosed: (d: ManagedDispatcher) => void,
  ) {
    const load = backend.dispatch.kind === 'balancer' ? backend.dispatch.load : undefined;
    this.log = deps.log.child(typeof source === 'string' ? 'balance' : 'forward');
    this.balancer = new Balancer<DestinationEndpoint>({
      clock: deps.clock,
      ...(deps.random !== undefined ? { random: deps.random } : {}),
      // The penalty variant's extra knobs have no counterpart in src/balance; its RTT/decay apply.
      ...(load !== undefined ? { peakEwma: { defaultRttMs: load.defaultRttMs, decayMs: load.decayMs } } : {}),
      failureAccrual: accrual,
      queue: backend.queue,
      logger: this.log,
    });
    if (typeof source !== 'string') {
      this.balancer.endpoints.reset([toUpdate(source)]);
    } else if (deps.destinations === undefined) {
      this.log.warn('no destination client: the balancer has no endpoints', { path: source });
    } else {
      this.subscription = deps.destinations.get(source, (view) => this.apply(view, source));
    }
  }

  get ready(): boolean {
    return !this.isClosed && this.balancer.endpoints.readyCount > 0;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  pick(signal?: AbortSignal): Picked {
    const picked = this.balancer.pick(signal);
    if (picked instanceof Endpoint) return picked;
    this.waiting++;
    return picked.finally(() => {
      this.waiting--;
      if (this.retired) this.closeIfIdle();
    });
  }

  retire(): void {
    this.retired = true;
    this.closeIfIdle();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.balancer.close();
    this.onClosed(this);
  }

  private closeIfIdle(): void {
    if (this.waiting === 0) this.close();
  }

  private apply(view: EndpointsView, path: string): void {
    if (this.isClosed) return;
    const set = this.balancer.endpoints;
    const change = view.change;
    switch (change.kind) {
      case 'reset':
        set.reset(change.endpoints.map(toUpdate));
        return;
      case 'add':
        set.add(change.endpoints.map(toUpdate));
        return;
      case 'remove':
        set.remove(change.addrs);
        return;
      case 'does-not-exist':
        set.noEndpoints();
        return;
      case 'rejected':
        // The watch ended for good; the endpoints known so far keep serving.
        this.log.warn('endpoint discovery refused', { path, code: change.code, error: change.message });
        return;
    }
  }
}

/** `fail` backends (and closed targets): every pick is rejected with a typed error. */
class FailingDispatcher implements ManagedDispatcher {
  private isClosed = false;

  constructor(
    readonly backend: Backend,
    readonly key: string,
    private readonly error: () => Error,
    private readonly onClosed: (d: ManagedDispatcher) => void,
  ) {}

  get ready(): boolean {
    return false;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  pick(): Picked {
    return Promise.reject(this.error());
  }

  retire(): void {
    this.close();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.onClosed(this);
  }
}

function toUpdate(ep: DestinationEndpoint): EndpointUpdate<DestinationEndpoint> {
  return { addr: ep.key, metadata: ep };
}
