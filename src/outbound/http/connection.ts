// One app connection to the outbound proxy speaking HTTP/1: per request, the in-flight limit, the
// policy route, its filters, retries and timeouts, then per attempt a backend, an endpoint from its
// dispatcher, and the forward decision (spec §5.5); metrics per endpoint, route and backend.
import type { Endpoint } from '../../balance/index.js';
import type { Clock } from '../../core/clock.js';
import { ProxyError } from '../../core/errors.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import type { Backend, OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import type {
  HeadEdits,
  Http1Handler,
  Http1Outcome,
  RequestHead,
  ResponseHead,
  RouteDecision,
  SyntheticResponse,
} from '../../http/h1/index.js';
import type { InFlightLimit } from '../../inbound/http/in-flight.js';
import type { BackendDispatcher, OutboundTarget } from '../context.js';
import { chooseBackend } from '../target/distribution.js';
import { A_NONE, A_RESET, A_RESPONSE, A_TIMEOUT, Attempt } from './attempt.js';
import type { EndpointClient, OutboundHttpClients } from './endpoint-clients.js';
import { forwardDecision } from './forward-decision.js';
import type { OutboundHttpErrorKind, OutboundHttpErrors } from './errors-metric.js';
import { FilterState, runFilters } from './filters.js';
import { l5dOverrides } from './l5d-headers.js';
import { Http1RequestView } from './request-view.js';
import { RequestRetry, type RetryOwner } from './request-retry.js';
import {
  LOAD_SHED,
  NO_BACKENDS,
  NO_ROUTE,
  backendFailed,
  dispatchFailure,
  identityRequired,
  notHttpTarget,
} from './responses.js';
import { effectiveRetry, effectiveTimeouts, type RequestTimeouts } from './retry-policy.js';
import type { OutboundRouteMetrics, RouteErrorLabel, RouteSeries } from './route-metrics.js';
import { http1Routes, type RouteHit } from './routes.js';

/** What every connection of one outbound proxy shares. */
export interface ConnectionDeps {
  readonly clients: OutboundHttpClients;
  readonly clock: Clock;
  readonly random: () => number;
  /** A route without backends never becomes ready: its requests fail fast after this long. */
  readonly failfastTimeoutMs: number;
  /** OUTBOUND_MAX_IN_FLIGHT, shared by every connection. */
  readonly inFlight: InFlightLimit;
  readonly routeMetrics: OutboundRouteMetrics;
  readonly errors: OutboundHttpErrors;
}

function respond(response: SyntheticResponse): RouteDecision {
  return { kind: 'respond', response };
}

const RESPOND_NO_ROUTE = respond(NO_ROUTE);
const RESPOND_LOAD_SHED = respond(LOAD_SHED);
const CLIENT_GONE: SyntheticResponse = Object.freeze({ status: 502, message: 'client connection closed', close: true });

/** Identities compare as the Rust `identity::Id`: DNS names without case or a trailing dot. */
function sameIdentity(required: string, id: { readonly kind: 'dns' | 'uri'; readonly name: string }): boolean {
  if (id.kind === 'uri') return required === id.name;
  const r = required.endsWith('.') ? required.slice(0, -1) : required;
  return r.toLowerCase() === id.name.toLowerCase();
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/** Route-level error labels and outbound_http_errors_total kinds of the dispatch failures. */
function dispatchErrorKinds(err: unknown): { kind: OutboundHttpErrorKind; label: RouteErrorLabel } {
  const code = err instanceof ProxyError ? err.code : undefined;
  if (code === 'failfast') return { kind: 'failfast', label: 'FAIL_FAST' };
  if (code === 'loadshed') return { kind: 'loadshed', label: 'LOAD_SHED' };
  return { kind: 'unexpected', label: 'UNKNOWN' };
}

const TIMEOUT_LABELS: Partial<Record<Http1Outcome, RouteErrorLabel>> = {
  'request-timeout': 'REQUEST_TIMEOUT',
  'response-timeout': 'RESPONSE_STREAM_TIMEOUT',
  'response-headers-timeout': 'RESPONSE_HEADERS_TIMEOUT',
};

export class OutboundHttp1Connection implements Http1Handler, RetryOwner {
  private current: RequestHead | undefined;
  private abort: AbortController | undefined;
  private readonly dispatcherOf: (b: Backend) => BackendDispatcher;
  private readonly retry: RequestRetry;

  // Per request (requests on one HTTP/1 connection are sequential).
  private holdsSlot = false;
  private policy: OutboundPolicy | undefined;
  private view: Http1RequestView | undefined;
  private hit: RouteHit | undefined;
  private series: RouteSeries | undefined;
  private timeouts: RequestTimeouts | undefined;
  /** The request's l5d headers, consumed on a route that allows them. */
  private l5dRemove: readonly string[] | undefined;
  private retrying = false;
  /** The attempt waiting for its outcome. */
  private attempt: Attempt | undefined;
  /** The endpoint client of that attempt. */
  private client: EndpointClient | undefined;
  /** An upstream final head reached the client (not the proxy's own answer). */
  private relayed = false;
  /** Why the proxy answered itself, when it did (set with the local answer). */
  private localError: OutboundHttpErrorKind | undefined;
  private localLabel: RouteErrorLabel | undefined;

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly target: OutboundTarget,
    /** The original destination `ip:port`: the authority of requests that name none. */
    private readonly origDst: string,
  ) {
    this.dispatcherOf = (b) => target.backend(b);
    this.retry = new RequestRetry(this, deps.random);
  }

  /** The client connection closed: requests waiting for an endpoint give up. */
  readonly clientClosed = (): void => {
    this.current = undefined;
    this.abort?.abort();
  };

  onRequestStart(req: RequestHead): void {
    this.current = req;
    this.policy = this.view = this.hit = this.series = this.timeouts = this.l5dRemove = undefined;
    this.localError = this.localLabel = undefined;
    this.retrying = this.relayed = false;
  }

  /** Bound once: the current attempt's client decides about closing (requests are sequential). */
  private readonly onUpstreamHead = (res: ResponseHead, req: RequestHead): boolean => {
    this.relayed = true;
    return this.client?.onResponseHead(res, req) === true;
  };

  route(req: RequestHead): RouteDecision | Promise<RouteDecision> {
    if (!this.deps.inFlight.tryAcquire()) return this.local(RESPOND_LOAD_SHED, 'loadshed', 'LOAD_SHED');
    this.holdsSlot = true;
    const policy = this.target.current();
    if (policy !== undefined) return this.routeWith(policy, req);
    return this.target.ready().then(
      (p) => this.routeWith(p, req),
      (err: unknown) => this.dispatchFailed(err),
    );
  }

  onResponseHead(_req: RequestHead, status: number): void {
    this.releaseSlot();
    this.attempt?.head(status, this.deps.clock.monotonic());
  }

  onRequestEnd(_req: RequestHead, status: number, durationMs: number, outcome: Http1Outcome): void {
    this.current = undefined;
    this.releaseSlot();
    const now = this.deps.clock.monotonic();
    const timeoutLabel = TIMEOUT_LABELS[outcome];
    const a = this.attempt;
    if (a !== undefined) {
      this.attempt = undefined;
      if (timeoutLabel !== undefined) a.end(A_TIMEOUT, now, timeoutLabel);
      else if (outcome === 'upstream-reset') a.end(A_RESET, now);
      else a.end(outcome === 'ok' || outcome === 'upgraded' ? A_RESPONSE : A_NONE, now);
    }
    const proxyAnswered = outcome === 'synthetic' || timeoutLabel !== undefined;
    if (proxyAnswered && status !== 400) this.deps.errors.count(this.localError ?? engineErrorKind(status, timeoutLabel));
    const s = this.series;
    if (s === undefined) return;
    s.requestDuration.observe(durationMs / 1000);
    if (this.localLabel !== undefined) s.statuses.error(this.localLabel).inc();
    else if (timeoutLabel !== undefined) (this.relayed ? s.statuses.status(status, timeoutLabel) : s.statuses.error(timeoutLabel)).inc();
    else if (outcome === 'upstream-reset') s.statuses.status(status, 'UNKNOWN').inc();
    else if (outcome === 'synthetic' && this.localError === undefined && status !== 0) s.statuses.error('UNKNOWN').inc();
    else if (status !== 0) s.statuses.status(status).inc();
    else s.statuses.error('UNKNOWN').inc();
  }

  private releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    this.deps.inFlight.release();
  }

  /** A local answer; `label` is its route-status error label (undefined: counted by its status). */
  private local(d: RouteDecision, kind: OutboundHttpErrorKind, label: RouteErrorLabel | undefined): RouteDecision {
    this.localError = kind;
    this.localLabel = label;
    return d;
  }

  private dispatchFailed(err: unknown): RouteDecision {
    const { kind, label } = dispatchErrorKinds(err);
    return this.local(respond(dispatchFailure(err)), kind, label);
  }

  // --- routing ---

  private routeWith(policy: OutboundPolicy, req: RequestHead): RouteDecision | Promise<RouteDecision> {
    const routes = http1Routes(policy);
    if (routes === null) return this.local(respond(notHttpTarget(policy.protocol.kind)), 'unexpected', undefined);
    const view = new Http1RequestView(req, this.origDst);
    const hit = routes.find(view);
    if (hit === undefined) return this.local(RESPOND_NO_ROUTE, 'unexpected', undefined);
    const rule = hit.rule;
    this.policy = policy;
    this.view = view;
    this.hit = hit;
    this.series = this.deps.routeMetrics.route(policy.meta, hit.route, view.authority);
    const overrides = rule.allowL5dRequestHeaders ? l5dOverrides(req) : undefined;
    if (overrides !== undefined) this.l5dRemove = overrides.present;
    this.timeouts = effectiveTimeouts(rule, overrides);
    const retry = effectiveRetry(rule, overrides);
    // A body declared longer than the replay limit is never retried (upstream's ReplayBody).
    if (retry !== undefined && req.contentLength <= retry.maxRequestBytes) {
      this.retry.reset(retry, this.series.retry());
      this.retrying = true;
    }
    return this.attemptNow(req);
  }

  /** One attempt: filters, a backend, an endpoint; a fail-fast pick may be retried. */
  private attemptNow(req: RequestHead): RouteDecision | Promise<RouteDecision> {
    const hit = this.hit!;
    const { rule } = hit;
    const random = this.deps.random;
    let filters: FilterState | undefined;
    if (rule.filters.length > 0) {
      filters = new FilterState(this.view!);
      const answer = runFilters(rule.filters, filters, hit.match, random);
      if (answer !== undefined) return this.local(respond(answer), 'unexpected', undefined);
    }
    const chosen = chooseBackend(rule.distribution, this.dispatcherOf, random);
    if (chosen === undefined) return this.noBackends();
    const rb = chosen.routeBackend;
    if (rb.filters.length > 0) {
      filters ??= new FilterState(this.view!);
      const answer = runFilters(rb.filters, filters, hit.match, random);
      if (answer !== undefined) return this.local(respond(answer), 'unexpected', undefined);
    }
    const backend = rb.backend;
    if (backend.dispatch.kind === 'fail') return this.local(respond(backendFailed(backend.dispatch.message)), 'unexpected', 'UNKNOWN');
    let picked: Endpoint<DestinationEndpoint> | Promise<Endpoint<DestinationEndpoint>>;
    try {
      picked = chosen.dispatcher.pick((this.abort ??= new AbortController()).signal);
    } catch (err) {
      return this.pickFailed(err, backend);
    }
    if (!isPromise(picked)) return this.dispatch(picked, backend, req, filters);
    return picked.then(
      (ep) => this.dispatch(ep, backend, req, filters),
      (err: unknown) => this.pickFailed(err, backend),
    );
  }

  /** Fail-fast is retryable (another attempt may find a ready backend); load shedding is not. */
  private pickFailed(err: unknown, backend: Backend): RouteDecision | Promise<RouteDecision> {
    const { kind, label } = dispatchErrorKinds(err);
    const b = this.series?.backend(backend);
    if (b !== undefined) {
      b.requests.inc();
      b.statuses.error(label).inc();
    }
    if (kind === 'failfast' && this.retrying && this.current !== undefined) {
      const next = this.retry.retryFailFast();
      if (next !== undefined) return next;
    }
    return this.dispatchFailed(err);
  }

  /** An empty distribution never becomes ready: like a queue that never sees an endpoint. */
  private noBackends(): Promise<RouteDecision> {
    const signal = (this.abort ??= new AbortController()).signal;
    return this.deps.clock.sleep(this.deps.failfastTimeoutMs, signal).then(() => this.local(respond(NO_BACKENDS), 'failfast', 'FAIL_FAST'));
  }

  private dispatch(ep: Endpoint<DestinationEndpoint>, backend: Backend, req: RequestHead, filters: FilterState | undefined): RouteDecision {
    if (this.current !== req) {
      // The client left while the request waited for an endpoint.
      ep.recordOutcome(false);
      return respond(CLIENT_GONE);
    }
    const dispatch = backend.dispatch;
    const client: EndpointClient = this.deps.clients.client(ep.metadata, dispatch.kind === 'balancer' ? dispatch.path : undefined);
    // An orig-proto endpoint that cannot connect leaves the balancer's rotation (once per endpoint).
    if (client.http2 !== undefined && !req.wantsUpgrade) client.h2Watched(ep);
    const required = req.indexOfHeader('l5d-require-id') === -1 ? undefined : req.header('l5d-require-id')!.trim();
    if (required !== undefined) {
      const id = client.meshed ? ep.metadata.tlsIdentity : undefined;
      if (id === undefined || !sameIdentity(required, id)) {
        ep.recordOutcome(false);
        return this.local(respond(identityRequired(required, id?.name)), 'identity required', 'UNKNOWN');
      }
    }
    const now = this.deps.clock.monotonic();
    this.attempt = new Attempt(ep, ep.start(now), client.metrics, this.series?.backend(backend), now);
    this.client = client;
    let edits: HeadEdits = filters?.request === undefined ? client.requestEdits : filters.request.edits(client.requestEdits);
    const l5d = this.l5dRemove;
    if (l5d !== undefined) edits = { remove: [...(edits.remove ?? []), ...l5d], ...(edits.set !== undefined && { set: edits.set }) };
    const t = this.timeouts!;
    return forwardDecision(this.deps.clients, client, req, {
      requestEdits: edits,
      responseModifiers: filters?.response,
      responseTimeoutMs: t.responseMs,
      requestTimeoutMs: t.requestMs,
      retry: this.retrying ? this.retry : undefined,
      onResponseHead: this.onUpstreamHead,
    });
  }

  // --- RetryOwner ---

  attemptDiscarded(status: number | undefined): void {
    const a = this.attempt;
    if (a === undefined) return;
    this.attempt = undefined;
    const now = this.deps.clock.monotonic();
    if (status === undefined) a.end(A_TIMEOUT, now, 'RESPONSE_HEADERS_TIMEOUT');
    else {
      a.head(status, now);
      a.end(A_RESPONSE, now);
    }
  }

  nextAttempt(delayMs: number): Promise<RouteDecision> {
    const req = this.current;
    const signal = (this.abort ??= new AbortController()).signal;
    const wait = delayMs > 0 ? this.deps.clock.sleep(delayMs, signal) : Promise.resolve();
    return wait.then(() => (req === undefined || this.current !== req ? respond(CLIENT_GONE) : this.attemptNow(req)));
  }
}

/** outbound_http_errors_total's kind for an answer the HTTP/1 engine made itself. */
function engineErrorKind(status: number, timeout: RouteErrorLabel | undefined): OutboundHttpErrorKind {
  if (timeout !== undefined) return 'response timeout';
  return status === 500 ? 'unexpected' : 'i/o';
}
