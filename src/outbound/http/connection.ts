// One app connection to the outbound proxy speaking HTTP/1: per request, the policy route, its
// filters, the backend, an endpoint from its dispatcher, and the forward decision (spec §5.5).
import type { Endpoint, InFlight } from '../../balance/index.js';
import type { Clock } from '../../core/clock.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import type { Backend, OutboundPolicy, RouteTimeouts } from '../../discovery/outbound-policy-types.js';
import type {
  ForwardDecision,
  HeadEdits,
  Http1Handler,
  Http1Outcome,
  RequestHead,
  ResponseHead,
  RouteDecision,
  SyntheticResponse,
} from '../../http/h1/index.js';
import type { BackendDispatcher, OutboundTarget } from '../context.js';
import { chooseBackend } from '../target/distribution.js';
import { RESPONSE_STRIP, type EndpointClient, type OutboundHttpClients } from './endpoint-clients.js';
import { FilterState, responseEdits, runFilters } from './filters.js';
import type { EndpointHttpMetrics, StatusSeries } from './metrics.js';
import { Http1RequestView } from './request-view.js';
import {
  NO_ROUTE,
  backendFailed,
  dispatchFailure,
  identityRequired,
  notHttpTarget,
} from './responses.js';
import { http1Routes, type RouteHit } from './routes.js';

/** What every connection of one outbound proxy shares. */
export interface ConnectionDeps {
  readonly clients: OutboundHttpClients;
  readonly clock: Clock;
  readonly random: () => number;
  /** A route without backends never becomes ready: its requests fail fast after this long. */
  readonly failfastTimeoutMs: number;
}

/** A request handed to an endpoint, for load, failure accrual and metrics. */
interface Dispatched {
  readonly ep: Endpoint<DestinationEndpoint>;
  readonly inflight: InFlight;
  readonly metrics: EndpointHttpMetrics;
  readonly startMs: number;
  readonly timeoutMs: number | undefined;
  series: StatusSeries | undefined;
  status: number;
  timedOut: boolean;
}

const TIMER_SLACK_MS = 2;

const NO_BACKENDS: SyntheticResponse = Object.freeze({ status: 504, message: 'service in fail-fast', close: true });

function respond(response: SyntheticResponse): RouteDecision {
  return { kind: 'respond', response };
}

const RESPOND_NO_ROUTE = respond(NO_ROUTE);

/** The response head deadline: the route's response timeout, bounded by its request timeout. */
function headTimeout(t: RouteTimeouts): number | undefined {
  const r = t.responseMs !== undefined && t.responseMs > 0 ? t.responseMs : undefined;
  const q = t.requestMs !== undefined && t.requestMs > 0 ? t.requestMs : undefined;
  return r === undefined ? q : q === undefined ? r : Math.min(r, q);
}

/** Identities compare as the Rust `identity::Id`: DNS names without case or a trailing dot. */
function sameIdentity(required: string, id: { readonly kind: 'dns' | 'uri'; readonly name: string }): boolean {
  if (id.kind === 'uri') return required === id.name;
  const r = required.endsWith('.') ? required.slice(0, -1) : required;
  return r.toLowerCase() === id.name.toLowerCase();
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

export class OutboundHttp1Connection implements Http1Handler {
  private current: RequestHead | undefined;
  private dispatched: Dispatched | undefined;
  private abort: AbortController | undefined;
  private readonly dispatcherOf: (b: Backend) => BackendDispatcher;

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly target: OutboundTarget,
    /** The original destination `ip:port`: the authority of requests that name none. */
    private readonly origDst: string,
  ) {
    this.dispatcherOf = (b) => target.backend(b);
  }

  /** The client connection closed: requests waiting for an endpoint give up. */
  readonly clientClosed = (): void => {
    this.current = undefined;
    this.abort?.abort();
  };

  onRequestStart(req: RequestHead): void {
    this.current = req;
  }

  route(req: RequestHead): RouteDecision | Promise<RouteDecision> {
    const policy = this.target.current();
    if (policy !== undefined) return this.routeWith(policy, req);
    return this.target.ready().then(
      (p) => this.routeWith(p, req),
      (err: unknown) => respond(dispatchFailure(err)),
    );
  }

  onResponseHead(_req: RequestHead, status: number): void {
    const d = this.dispatched;
    if (d === undefined || d.status !== 0) return;
    d.status = status;
    const now = this.deps.clock.monotonic();
    d.inflight.complete(now);
    const elapsed = now - d.startMs;
    // The engine's route timeout answers 504 once the deadline passed: an error, not a response.
    // (Timers run on the event loop's cached clock, so they may fire up to a millisecond early.)
    if (status === 504 && d.timeoutMs !== undefined && elapsed >= d.timeoutMs - TIMER_SLACK_MS) {
      d.timedOut = true;
      return;
    }
    d.series = d.metrics.status(status);
    d.series.latency.observe(elapsed);
  }

  onRequestEnd(_req: RequestHead, _status: number, _durationMs: number, outcome: Http1Outcome): void {
    this.current = undefined;
    const d = this.dispatched;
    if (d === undefined) return;
    this.dispatched = undefined;
    d.inflight.complete();
    let success = false;
    if (d.timedOut) d.metrics.timedOut();
    else if (d.series !== undefined) {
      if (outcome === 'upstream-reset') d.series.bodyFailed();
      else {
        success = d.status < 500;
        d.series.classified(!success);
      }
    }
    // Every pick is reported, so a failure-accrual probe never stays undecided.
    d.ep.recordOutcome(success);
  }

  // --- routing ---

  private routeWith(policy: OutboundPolicy, req: RequestHead): RouteDecision | Promise<RouteDecision> {
    const routes = http1Routes(policy);
    if (routes === null) return respond(notHttpTarget(policy.protocol.kind));
    const view = new Http1RequestView(req, this.origDst);
    const hit = routes.find(view);
    if (hit === undefined) return RESPOND_NO_ROUTE;
    const { rule } = hit;
    const random = this.deps.random;
    let filters: FilterState | undefined;
    if (rule.filters.length > 0) {
      filters = new FilterState(view);
      const answer = runFilters(rule.filters, filters, hit.match, random);
      if (answer !== undefined) return respond(answer);
    }
    const chosen = chooseBackend(rule.distribution, this.dispatcherOf, random);
    if (chosen === undefined) return this.noBackends();
    const rb = chosen.routeBackend;
    if (rb.filters.length > 0) {
      filters ??= new FilterState(view);
      const answer = runFilters(rb.filters, filters, hit.match, random);
      if (answer !== undefined) return respond(answer);
    }
    const backend = rb.backend;
    if (backend.dispatch.kind === 'fail') return respond(backendFailed(backend.dispatch.message));
    let picked: Endpoint<DestinationEndpoint> | Promise<Endpoint<DestinationEndpoint>>;
    try {
      picked = chosen.dispatcher.pick((this.abort ??= new AbortController()).signal);
    } catch (err) {
      return respond(dispatchFailure(err));
    }
    if (!isPromise(picked)) return this.dispatch(picked, backend, req, hit, filters);
    return picked.then(
      (ep) => this.dispatch(ep, backend, req, hit, filters),
      (err: unknown) => respond(dispatchFailure(err)),
    );
  }

  /** An empty distribution never becomes ready: like a queue that never sees an endpoint. */
  private noBackends(): Promise<RouteDecision> {
    const signal = (this.abort ??= new AbortController()).signal;
    return this.deps.clock.sleep(this.deps.failfastTimeoutMs, signal).then(() => respond(NO_BACKENDS));
  }

  private dispatch(
    ep: Endpoint<DestinationEndpoint>,
    backend: Backend,
    req: RequestHead,
    hit: RouteHit,
    filters: FilterState | undefined,
  ): RouteDecision {
    if (this.current !== req) {
      // The client left while the request waited for an endpoint.
      ep.recordOutcome(false);
      return respond(dispatchFailure(new Error('client connection closed')));
    }
    const dispatch = backend.dispatch;
    const client = this.deps.clients.client(ep.metadata, dispatch.kind === 'balancer' ? dispatch.path : undefined);
    const required = req.indexOfHeader('l5d-require-id') === -1 ? undefined : req.header('l5d-require-id');
    if (required !== undefined) {
      const id = client.meshed ? ep.metadata.tlsIdentity : undefined;
      if (id === undefined || !sameIdentity(required.trim(), id)) {
        ep.recordOutcome(false);
        return respond(identityRequired(required.trim(), id?.name));
      }
    }
    const timeoutMs = headTimeout(hit.rule.timeouts);
    const now = this.deps.clock.monotonic();
    this.dispatched = {
      ep,
      inflight: ep.start(now),
      metrics: client.metrics,
      startMs: now,
      timeoutMs,
      series: undefined,
      status: 0,
      timedOut: false,
    };
    client.metrics.requests.inc();
    // Upgrades and CONNECT keep a dedicated HTTP/1 connection (spec §5.7).
    const upgrade = client.http2 !== undefined && !req.wantsUpgrade;
    const requestEdits = filters?.request === undefined ? client.requestEdits : filters.request.edits(client.requestEdits);
    return forwardDecision(
      upgrade ? this.deps.clients.bridgePool : this.deps.clients.http1Pool,
      upgrade ? client.http2 : client.http1,
      requestEdits,
      timeoutMs,
      client,
      filters?.response,
    );
  }
}

function forwardDecision(
  pool: ForwardDecision['pool'],
  target: ForwardDecision['target'],
  requestEdits: HeadEdits,
  timeoutMs: number | undefined,
  client: EndpointClient,
  modifiers: FilterState['response'],
): ForwardDecision {
  const base = { kind: 'forward', pool, target, requestEdits, ...(timeoutMs !== undefined && { responseTimeoutMs: timeoutMs }) } as const;
  if (modifiers === undefined) return { ...base, responseEdits: RESPONSE_STRIP, onResponseHead: client.onResponseHead };
  // The engine reads responseEdits after this hook has seen the final head.
  const d: { -readonly [K in keyof ForwardDecision]: ForwardDecision[K] } = {
    ...base,
    responseEdits: RESPONSE_STRIP,
    onResponseHead: (res: ResponseHead, req: RequestHead) => {
      d.responseEdits = responseEdits(res, modifiers, RESPONSE_STRIP);
      return client.onResponseHead(res, req);
    },
  };
  return d;
}
