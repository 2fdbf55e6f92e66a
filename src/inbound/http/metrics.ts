// Inbound HTTP legacy metrics: the series of each (target, TLS, server, route, authz) and the
// authorization counters, bound once and cached by policy object.
import { BoundedCache } from '../../core/bounded-cache.js';
import {
  LegacyCounterFamily,
  authzLabels,
  renderLabels,
  routeLabels,
  serverLabels,
  targetAddrLabels,
  tlsAcceptKey,
  tlsAcceptLabels,
  type LegacyCounter,
  type Metrics,
  type TlsAccept,
} from '../../metrics/index.js';
import type { Authorization, GrpcRoute, HttpRoute, Meta, ServerPolicy } from '../../policy/inbound/index.js';
import { formatAddr, type SocketAddr } from '../../transport/index.js';
import { RouteMetrics, httpEndpointFamilies, type HttpEndpointFamilies } from './route-metrics.js';

interface RouteEntry {
  denied: LegacyCounter | undefined;
  readonly byAuthz: WeakMap<Authorization, RouteMetrics>;
  /** Only with INBOUND_METRICS_AUTHORITY_LABELS=unsafe. */
  readonly byAuthority: WeakMap<Authorization, BoundedCache<string, RouteMetrics>>;
}

interface ServerEntry {
  notFound: LegacyCounter | undefined;
  readonly routes: WeakMap<HttpRoute | GrpcRoute, RouteEntry>;
  readonly rateLimited: Map<string, LegacyCounter>;
}

const AUTHORITY_CACHE_LIMIT = 1000;

/** The series of one (target, client TLS) pair. Keyed by policy objects, so no per-request strings. */
export class EndpointMetrics {
  private readonly servers = new WeakMap<ServerPolicy, ServerEntry>();
  private readonly target: string;
  private readonly tls: string;
  private readonly port: number;

  constructor(
    private readonly owner: InboundHttpMetrics,
    target: SocketAddr,
    tls: TlsAccept,
  ) {
    this.target = renderLabels(targetAddrLabels({ ip: target.host, port: target.port }));
    this.tls = renderLabels(tlsAcceptLabels(tls));
    this.port = target.port;
  }

  /** The series for an authorized request on `route` (and, when enabled, its authority). */
  route(server: ServerPolicy, route: HttpRoute | GrpcRoute, authz: Authorization, authority?: string): RouteMetrics {
    const re = this.routeEntry(server, route);
    if (authority !== undefined && this.owner.authorityLabels) {
      let byName = re.byAuthority.get(authz);
      if (byName === undefined) {
        byName = new BoundedCache(AUTHORITY_CACHE_LIMIT);
        re.byAuthority.set(authz, byName);
      }
      return byName.get(authority, () => this.makeRoute(server.meta, route.meta, authz.meta, authority));
    }
    let rm = re.byAuthz.get(authz);
    if (rm === undefined) {
      rm = this.makeRoute(server.meta, route.meta, authz.meta, undefined);
      re.byAuthz.set(authz, rm);
    }
    return rm;
  }

  denied(server: ServerPolicy, route: HttpRoute | GrpcRoute): void {
    const re = this.routeEntry(server, route);
    re.denied ??= this.owner.families.deny.get(
      `${this.target},${this.srv(server.meta)},${renderLabels(routeLabels(route.meta))},${this.tls}`,
    );
    re.denied.inc();
  }

  routeNotFound(server: ServerPolicy): void {
    const se = this.serverEntry(server);
    se.notFound ??= this.owner.families.notFound.get(`${this.target},${this.srv(server.meta)},${this.tls}`);
    se.notFound.inc();
  }

  /** `inbound_http_local_ratelimit_total`; `limit` is the RateLimitPolicy when it is named. */
  rateLimited(server: ServerPolicy, limit: Meta | undefined, scope: string): void {
    const se = this.serverEntry(server);
    const key = scope;
    let c = se.rateLimited.get(key);
    if (c === undefined) {
      const rl =
        limit === undefined
          ? `ratelimit_scope="${scope}"`
          : renderLabels({ ratelimit_group: limit.group, ratelimit_kind: limit.kind, ratelimit_name: limit.name, ratelimit_scope: scope });
      c = this.owner.families.rateLimit.get(`${this.target},${this.srv(server.meta)},${rl},${this.tls}`);
      se.rateLimited.set(key, c);
    }
    c.inc();
  }

  private makeRoute(server: Meta, route: Meta, authz: Meta, authority: string | undefined): RouteMetrics {
    const srv = this.srv(server);
    const rt = renderLabels(routeLabels(route));
    const az = renderLabels(authzLabels(authz));
    const auth = authority === undefined ? '' : `${renderLabels({ authority })},`;
    const labels = `direction="inbound",${auth}${this.target},${this.tls},${srv},${rt},${az}`;
    const allowed = this.owner.families.allow.get(`${this.target},${srv},${rt},${az},${this.tls}`);
    return new RouteMetrics(this.owner.families.endpoint, labels, allowed);
  }

  private srv(server: Meta): string {
    return renderLabels(serverLabels(server, this.port));
  }

  private serverEntry(server: ServerPolicy): ServerEntry {
    let se = this.servers.get(server);
    if (se === undefined) {
      se = { notFound: undefined, routes: new WeakMap(), rateLimited: new Map() };
      this.servers.set(server, se);
    }
    return se;
  }

  private routeEntry(server: ServerPolicy, route: HttpRoute | GrpcRoute): RouteEntry {
    const se = this.serverEntry(server);
    let re = se.routes.get(route);
    if (re === undefined) {
      re = { denied: undefined, byAuthz: new WeakMap(), byAuthority: new WeakMap() };
      se.routes.set(route, re);
    }
    return re;
  }
}

interface InboundHttpFamilies {
  readonly endpoint: HttpEndpointFamilies;
  readonly allow: LegacyCounterFamily;
  readonly deny: LegacyCounterFamily;
  readonly notFound: LegacyCounterFamily;
  readonly rateLimit: LegacyCounterFamily;
}

const ENDPOINT_CACHE_LIMIT = 10_000;

export interface InboundHttpMetricsOptions {
  /** LINKERD2_PROXY_INBOUND_METRICS_AUTHORITY_LABELS=unsafe: add `authority` to the endpoint families. */
  readonly authorityLabels?: boolean;
}

/** Made once per metrics bundle (see inboundHttpMetrics); connections ask for their EndpointMetrics once. */
export class InboundHttpMetrics {
  readonly families: InboundHttpFamilies;
  readonly authorityLabels: boolean;
  private readonly endpoints = new BoundedCache<string, EndpointMetrics>(ENDPOINT_CACHE_LIMIT);

  constructor(metrics: Metrics, opts: InboundHttpMetricsOptions = {}) {
    this.authorityLabels = opts.authorityLabels ?? false;
    const retainIdleMs = metrics.retainIdleMs;
    const counter = (name: string, help: string): LegacyCounterFamily => {
      const f = new LegacyCounterFamily({ name, help, retainIdleMs });
      metrics.legacy.register(f);
      return f;
    };
    const endpoint = httpEndpointFamilies(metrics);
    this.families = {
      endpoint,
      allow: counter('inbound_http_authz_allow_total', 'The total number of inbound HTTP requests that were authorized'),
      deny: counter(
        'inbound_http_authz_deny_total',
        'The total number of inbound HTTP requests that could not be processed due to a proxy error.',
      ),
      notFound: counter(
        'inbound_http_route_not_found_total',
        'The total number of inbound HTTP requests that could not be associated with a route',
      ),
      rateLimit: counter('inbound_http_local_ratelimit_total', 'The total number of inbound HTTP requests that were rate-limited'),
    };
  }

  endpoint(target: SocketAddr, tls: TlsAccept): EndpointMetrics {
    return this.endpoints.get(`${formatAddr(target)}|${tlsAcceptKey(tls)}`, () => new EndpointMetrics(this, target, tls));
  }
}

const perBundle = new WeakMap<Metrics, InboundHttpMetrics>();

/** The bundle's InboundHttpMetrics (families may be registered only once per bundle). */
export function inboundHttpMetrics(metrics: Metrics, opts: InboundHttpMetricsOptions = {}): InboundHttpMetrics {
  let m = perBundle.get(metrics);
  if (m === undefined) {
    m = new InboundHttpMetrics(metrics, opts);
    perBundle.set(metrics, m);
  }
  return m;
}

