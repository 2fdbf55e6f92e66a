// The outbound client-policy route families (spec §8.3, upstream outbound_http_route_*): request
// durations and statuses per route, requests/durations/statuses per route backend, and retry
// counters; series bound once per route and backend, statuses once per value.
import type { Backend, HttpRoute, PolicyMeta } from '../../discovery/outbound-policy-types.js';
import type { Metrics } from '../../metrics/index.js';
import { BoundCounterFamily, BoundHistogramFamily, type BoundCounter, type BoundHistogram } from './bound-families.js';

const PARENT = ['parent_group', 'parent_kind', 'parent_namespace', 'parent_name', 'parent_port', 'parent_section_name'] as const;
const ROUTE = ['route_group', 'route_kind', 'route_namespace', 'route_name'] as const;
const BACKEND = ['backend_group', 'backend_kind', 'backend_namespace', 'backend_name', 'backend_port', 'backend_section_name'] as const;
const ROUTE_LABELS = [...PARENT, ...ROUTE, 'hostname'] as const;
const BACKEND_LABELS = [...PARENT, ...ROUTE, ...BACKEND] as const;
const STATUS = ['http_status', 'error'] as const;

/** Upstream's request-duration buckets (seconds), coarser than the backend response ones. */
export const ROUTE_REQUEST_BUCKETS: readonly number[] = Object.freeze([0.05, 0.5, 1, 10]);
export const ROUTE_BACKEND_RESPONSE_BUCKETS: readonly number[] = Object.freeze([0.025, 0.05, 0.1, 0.25, 0.5, 1, 10]);

/** The `error` label values (upstream route metrics' error enum). */
export type RouteErrorLabel =
  | 'FAIL_FAST'
  | 'LOAD_SHED'
  | 'REQUEST_TIMEOUT'
  | 'RESPONSE_HEADERS_TIMEOUT'
  | 'RESPONSE_STREAM_TIMEOUT'
  | 'IDLE_TIMEOUT'
  | 'CANCEL'
  | 'REFUSED'
  | 'ENHANCE_YOUR_CALM'
  | 'RESET'
  | 'GO_AWAY'
  | 'IO'
  | 'UNKNOWN';

type Inc = BoundCounter;
type Observe = BoundHistogram;

class Families {
  readonly requestDuration: BoundHistogramFamily;
  readonly requestStatuses: BoundCounterFamily;
  readonly backendRequests: BoundCounterFamily;
  readonly backendResponseDuration: BoundHistogramFamily;
  readonly backendResponseStatuses: BoundCounterFamily;
  readonly retryRequests: BoundCounterFamily;
  readonly retrySuccesses: BoundCounterFamily;
  readonly retryLimitExceeded: BoundCounterFamily;
  readonly retryOverflow: BoundCounterFamily;

  constructor(metrics: Metrics) {
    const r = metrics.registry;
    const p = 'outbound_http_route_';
    this.requestDuration = new BoundHistogramFamily(
      r,
      `${p}request_duration_seconds`,
      'The time between request initialization and response completion',
      ROUTE_LABELS,
      ROUTE_REQUEST_BUCKETS,
    );
    this.requestStatuses = new BoundCounterFamily(r, `${p}request_statuses_total`, 'Completed request-response streams', [...ROUTE_LABELS, ...STATUS]);
    this.backendRequests = new BoundCounterFamily(r, `${p}backend_requests_total`, 'The total number of requests dispatched', BACKEND_LABELS);
    this.backendResponseDuration = new BoundHistogramFamily(
      r,
      `${p}backend_response_duration_seconds`,
      'The time between request completion and response completion',
      BACKEND_LABELS,
      ROUTE_BACKEND_RESPONSE_BUCKETS,
    );
    this.backendResponseStatuses = new BoundCounterFamily(r, `${p}backend_response_statuses_total`, 'Completed responses', [...BACKEND_LABELS, ...STATUS]);
    this.retryLimitExceeded = new BoundCounterFamily(r, `${p}retry_limit_exceeded_total`, 'Retryable requests not sent due to retry limits', ROUTE_LABELS);
    this.retryOverflow = new BoundCounterFamily(r, `${p}retry_overflow_total`, 'Retryable requests not sent due to circuit breakers', ROUTE_LABELS);
    this.retryRequests = new BoundCounterFamily(r, `${p}retry_requests_total`, 'Retry requests emitted', ROUTE_LABELS);
    this.retrySuccesses = new BoundCounterFamily(r, `${p}retry_successes_total`, 'Successful responses to retry requests', ROUTE_LABELS);
  }
}

function metaValues(m: PolicyMeta, withPort: boolean): string[] {
  const out = [m.group, m.kind, m.namespace, m.name];
  if (withPort) out.push(m.port === undefined ? '' : String(m.port), m.section ?? '');
  return out;
}

/** Status and error children of one labelled family, created on first use and kept. */
class StatusChildren {
  private readonly byStatus = new Map<number, Inc>();
  private readonly byError = new Map<string, Inc>();

  constructor(
    private readonly family: BoundCounterFamily,
    private readonly labels: readonly string[],
  ) {}

  status(code: number, error?: RouteErrorLabel): Inc {
    if (error !== undefined) return this.labelled(`${code}|${error}`, String(code), error);
    let c = this.byStatus.get(code);
    if (c === undefined) {
      c = this.family.bind([...this.labels, String(code), '']);
      this.byStatus.set(code, c);
    }
    return c;
  }

  error(error: RouteErrorLabel): Inc {
    return this.labelled(error, '', error);
  }

  private labelled(key: string, status: string, error: string): Inc {
    let c = this.byError.get(key);
    if (c === undefined) {
      c = this.family.bind([...this.labels, status, error]);
      this.byError.set(key, c);
    }
    return c;
  }
}

/** One route backend's series. */
export class RouteBackendSeries {
  readonly requests: Inc;
  readonly responseDuration: Observe;
  readonly statuses: StatusChildren;

  constructor(f: Families, labels: readonly string[]) {
    this.requests = f.backendRequests.bind(labels);
    this.responseDuration = f.backendResponseDuration.bind(labels);
    this.statuses = new StatusChildren(f.backendResponseStatuses, labels);
  }
}

export interface RetrySeries {
  readonly requests: Inc;
  readonly successes: Inc;
  readonly limitExceeded: Inc;
  readonly overflow: Inc;
}

/** One route's series (for one hostname when hostname labels are exported). */
export class RouteSeries {
  readonly requestDuration: Observe;
  readonly statuses: StatusChildren;
  private retrySeries: RetrySeries | undefined;
  private readonly backends = new Map<Backend, RouteBackendSeries>();
  private readonly routeValues: readonly string[];

  constructor(
    private readonly f: Families,
    private readonly parentRoute: readonly string[],
    hostname: string,
  ) {
    this.routeValues = [...parentRoute, hostname];
    this.requestDuration = f.requestDuration.bind(this.routeValues);
    this.statuses = new StatusChildren(f.requestStatuses, this.routeValues);
  }

  backend(b: Backend): RouteBackendSeries {
    let s = this.backends.get(b);
    if (s === undefined) {
      s = new RouteBackendSeries(this.f, [...this.parentRoute, ...metaValues(b.meta, true)]);
      this.backends.set(b, s);
    }
    return s;
  }

  /** Bound when the route first sees a request with a retry policy (as upstream creates them). */
  retry(): RetrySeries {
    if (this.retrySeries === undefined) {
      const v = this.routeValues;
      const f = this.f;
      this.retrySeries = {
        requests: f.retryRequests.bind(v),
        successes: f.retrySuccesses.bind(v),
        limitExceeded: f.retryLimitExceeded.bind(v),
        overflow: f.retryOverflow.bind(v),
      };
    }
    return this.retrySeries;
  }
}

const HOSTNAME_CACHE_LIMIT = 1000;

/** The route families of one metrics bundle, and their series per route object. */
export class OutboundRouteMetrics {
  private readonly f: Families;
  private readonly routes = new WeakMap<HttpRoute, RouteSeries | Map<string, RouteSeries>>();

  constructor(
    metrics: Metrics,
    /** LINKERD2_PROXY_OUTBOUND_METRICS_HOSTNAME_LABELS: label series with the request's host. */
    private readonly hostnameLabels: boolean,
  ) {
    this.f = new Families(metrics);
  }

  /** The series of `route` (of a policy describing `parent`); `host` is the request's authority. */
  route(parent: PolicyMeta, route: HttpRoute, host: string): RouteSeries {
    const entry = this.routes.get(route);
    if (!this.hostnameLabels) {
      if (entry instanceof RouteSeries) return entry;
      const s = new RouteSeries(this.f, [...metaValues(parent, true), ...metaValues(route.meta, false)], '');
      this.routes.set(route, s);
      return s;
    }
    const hostname = dnsHostname(host);
    let byHost = entry instanceof Map ? entry : undefined;
    if (byHost === undefined) {
      byHost = new Map();
      this.routes.set(route, byHost);
    }
    let s = byHost.get(hostname);
    if (s === undefined) {
      if (byHost.size >= HOSTNAME_CACHE_LIMIT) byHost.clear();
      s = new RouteSeries(this.f, [...metaValues(parent, true), ...metaValues(route.meta, false)], hostname);
      byHost.set(hostname, s);
    }
    return s;
  }
}

/** The authority's host when it is a DNS name (upstream drops IPs and invalid names: ""). */
function dnsHostname(authority: string): string {
  let host = authority;
  if (host.startsWith('[')) return '';
  const colon = host.lastIndexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '' || host.length > 253 || /^[\d.]+$/.test(host)) return '';
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host) ? host.toLowerCase() : '';
}

const bundles = new WeakMap<Metrics, OutboundRouteMetrics>();

/** One per metrics bundle: prom-client refuses a family registered twice. */
export function outboundRouteMetrics(metrics: Metrics, hostnameLabels: boolean): OutboundRouteMetrics {
  let m = bundles.get(metrics);
  if (m === undefined) {
    m = new OutboundRouteMetrics(metrics, hostnameLabels);
    bundles.set(metrics, m);
  }
  return m;
}
