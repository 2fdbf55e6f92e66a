// Route selection for the outbound HTTP/2 server: a policy's HTTPRoutes (http2, or detect's http2
// side) or GRPCRoutes (grpc), compiled once per policy object, then the best route and rule per
// request by upstream linkerd_http_route's precedence (host first, then the rule's best match).
import type { GrpcRoute, GrpcRule, HttpRoute, HttpRule, OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import {
  DEFAULT_GRPC_SUMMARY,
  DEFAULT_HTTP_SUMMARY,
  RequestFacts,
  compareGrpcSummary,
  compareHttpSummary,
  compileGrpcRouteMatch,
  compileHosts,
  compileHttpRouteMatch,
  type GrpcMatchSummary,
  type HttpMatchSummary,
  type HttpRequestView,
} from '../../policy/inbound/match-http.js';
import { findBestRoute, type RankedRoute } from '../../policy/inbound/route-precedence.js';

export type H2RouteHit =
  | { readonly kind: 'http'; readonly route: HttpRoute; readonly rule: HttpRule; readonly match: HttpMatchSummary }
  | { readonly kind: 'grpc'; readonly route: GrpcRoute; readonly rule: GrpcRule; readonly match: GrpcMatchSummary };

export interface CompiledH2Routes {
  readonly kind: 'http' | 'grpc';
  find(req: HttpRequestView): H2RouteHit | undefined;
}

interface Compiled<R, U, S> extends RankedRoute<U, S> {
  readonly route: R;
}

const cache = new WeakMap<OutboundPolicy, CompiledH2Routes | null>();

/** The routes an HTTP/2 request to this policy's target is matched against; null when it has none (opaque, TLS, HTTP/1-only). */
export function h2Routes(policy: OutboundPolicy): CompiledH2Routes | null {
  let c = cache.get(policy);
  if (c === undefined) {
    const p = policy.protocol;
    if (p.kind === 'grpc') c = grpcRoutes(p.routes);
    else if (p.kind === 'http2') c = httpRoutes(p.routes);
    else if (p.kind === 'detect') c = httpRoutes(p.http2.routes);
    else c = null;
    cache.set(policy, c);
  }
  return c;
}

export function httpRoutes(routes: readonly HttpRoute[]): CompiledH2Routes {
  const compiled: Compiled<HttpRoute, HttpRule, HttpMatchSummary>[] = routes.map((route) => ({
    route,
    hosts: compileHosts(route.hosts),
    rules: route.rules.map((rule) => ({ rule, matchers: rule.matches.map(compileHttpRouteMatch) })),
  }));
  return {
    kind: 'http',
    find(req) {
      const best = findBestRoute(compiled, new RequestFacts(req), DEFAULT_HTTP_SUMMARY, compareHttpSummary);
      return best === undefined ? undefined : { kind: 'http', route: best.route.route, rule: best.rule, match: best.summary };
    },
  };
}

export function grpcRoutes(routes: readonly GrpcRoute[]): CompiledH2Routes {
  const compiled: Compiled<GrpcRoute, GrpcRule, GrpcMatchSummary>[] = routes.map((route) => ({
    route,
    hosts: compileHosts(route.hosts),
    rules: route.rules.map((rule) => ({ rule, matchers: rule.matches.map(compileGrpcRouteMatch) })),
  }));
  return {
    kind: 'grpc',
    find(req) {
      const best = findBestRoute(compiled, new RequestFacts(req), DEFAULT_GRPC_SUMMARY, compareGrpcSummary);
      return best === undefined ? undefined : { kind: 'grpc', route: best.route.route, rule: best.rule, match: best.summary };
    },
  };
}
