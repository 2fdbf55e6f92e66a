// Outbound HTTP route selection: a policy's HTTPRoutes compiled once, then the best route and
// rule for each request by upstream linkerd_http_route's precedence (route-precedence.ts).
import type { HttpProtocol, HttpRoute, HttpRule, OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import {
  DEFAULT_HTTP_SUMMARY,
  RequestFacts,
  compareHttpSummary,
  compileHosts,
  compileHttpRouteMatch,
  type HttpMatchSummary,
  type HttpRequestView,
} from '../../policy/inbound/match-http.js';
import { findBestRoute, type RankedRoute } from '../../policy/inbound/route-precedence.js';

export type { HttpRequestView };

interface CompiledRoute extends RankedRoute<HttpRule, HttpMatchSummary> {
  readonly route: HttpRoute;
}

export interface RouteHit {
  readonly route: HttpRoute;
  readonly rule: HttpRule;
  /** How the request matched (a redirect's prefix replacement needs it). */
  readonly match: HttpMatchSummary;
}

export interface CompiledHttpRoutes {
  /** The routes HTTP/1 requests are matched against (a `detect` policy's http1 side). */
  readonly protocol: HttpProtocol;
  find(req: HttpRequestView): RouteHit | undefined;
}

const cache = new WeakMap<OutboundPolicy, CompiledHttpRoutes | null>();

/**
 * The HTTP/1 routes of a policy, compiled on first use and kept as long as the policy object.
 * Null when the policy has none to offer an HTTP/1 request (opaque, TLS or gRPC targets).
 */
export function http1Routes(policy: OutboundPolicy): CompiledHttpRoutes | null {
  let c = cache.get(policy);
  if (c === undefined) {
    const p = policy.protocol;
    const protocol = p.kind === 'detect' ? p.http1 : p.kind === 'http1' || p.kind === 'http2' ? p : undefined;
    c = protocol === undefined ? null : compileRoutes(protocol);
    cache.set(policy, c);
  }
  return c;
}

function compileRoutes(protocol: HttpProtocol): CompiledHttpRoutes {
  const routes: CompiledRoute[] = protocol.routes.map((route) => ({
    route,
    hosts: compileHosts(route.hosts),
    rules: route.rules.map((rule) => ({ rule, matchers: rule.matches.map(compileHttpRouteMatch) })),
  }));
  return { protocol, find: (req) => findRoute(routes, new RequestFacts(req)) };
}

function findRoute(routes: readonly CompiledRoute[], facts: RequestFacts): RouteHit | undefined {
  const best = findBestRoute(routes, facts, DEFAULT_HTTP_SUMMARY, compareHttpSummary);
  return best === undefined ? undefined : { route: best.route.route, rule: best.rule, match: best.summary };
}
