// Outbound HTTP route selection: a policy's HTTPRoutes compiled once, then the best route and
// rule for each request by the same precedence the inbound side uses (upstream linkerd_http_route).
import type { HttpProtocol, HttpRoute, HttpRule, OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import {
  DEFAULT_HTTP_SUMMARY,
  RequestFacts,
  compareHost,
  compareHttpSummary,
  compileHosts,
  compileHttpRouteMatch,
  type HostSummary,
  type HttpMatchSummary,
  type HttpMatcher,
  type HttpRequestView,
} from '../../policy/inbound/match-http.js';

export type { HttpRequestView };

interface CompiledRoute {
  readonly route: HttpRoute;
  readonly hosts: (facts: RequestFacts) => HostSummary | undefined | null;
  readonly rules: readonly { readonly rule: HttpRule; readonly matchers: readonly HttpMatcher[] }[];
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

/**
 * Routes rank by host match (none < suffix < exact, longer wins), then by their rule's best
 * match; a rule without matches has the default summary; the first of equals wins.
 */
function findRoute(routes: readonly CompiledRoute[], facts: RequestFacts): RouteHit | undefined {
  let best: { hit: RouteHit; host: HostSummary | undefined } | undefined;
  for (const r of routes) {
    const host = r.hosts(facts);
    if (host === null) continue;
    if (best !== undefined && compareHost(host, best.host) < 0) continue;
    for (const { rule, matchers } of r.rules) {
      let summary: HttpMatchSummary | undefined;
      if (matchers.length === 0) summary = DEFAULT_HTTP_SUMMARY;
      else {
        for (const m of matchers) {
          const s = m(facts);
          if (s !== undefined && (summary === undefined || compareHttpSummary(s, summary) >= 0)) summary = s;
        }
      }
      if (summary === undefined) continue;
      if (best !== undefined) {
        const byHost = compareHost(host, best.host);
        if (byHost < 0 || (byHost === 0 && compareHttpSummary(summary, best.hit.match) <= 0)) continue;
      }
      best = { hit: { route: r.route, rule, match: summary }, host };
    }
  }
  return best?.hit;
}
