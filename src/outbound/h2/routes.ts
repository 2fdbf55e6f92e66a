// Route selection for the outbound HTTP/2 server: a policy's HTTPRoutes (http2, or detect's http2
// side) or GRPCRoutes (grpc), compiled once per policy object, then the best route and rule per
// request by upstream linkerd_http_route's precedence (host first, then the rule's best match).
import type { GrpcRoute, GrpcRule, HttpRoute, HttpRule, OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import {
  DEFAULT_GRPC_SUMMARY,
  DEFAULT_HTTP_SUMMARY,
  RequestFacts,
  compareGrpcSummary,
  compareHost,
  compareHttpSummary,
  compileGrpcRouteMatch,
  compileHosts,
  compileHttpRouteMatch,
  type GrpcMatchSummary,
  type HostSummary,
  type HttpMatchSummary,
  type HttpRequestView,
} from '../../policy/inbound/match-http.js';

export type H2RouteHit =
  | { readonly kind: 'http'; readonly route: HttpRoute; readonly rule: HttpRule; readonly match: HttpMatchSummary }
  | { readonly kind: 'grpc'; readonly route: GrpcRoute; readonly rule: GrpcRule; readonly match: GrpcMatchSummary };

export interface CompiledH2Routes {
  readonly kind: 'http' | 'grpc';
  find(req: HttpRequestView): H2RouteHit | undefined;
}

interface Compiled<R, U, S> {
  readonly route: R;
  readonly hosts: (facts: RequestFacts) => HostSummary | undefined | null;
  readonly rules: readonly { readonly rule: U; readonly matchers: readonly ((f: RequestFacts) => S | undefined)[] }[];
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
  const compiled = routes.map((route) => ({
    route,
    hosts: compileHosts(route.hosts),
    rules: route.rules.map((rule) => ({ rule, matchers: rule.matches.map(compileHttpRouteMatch) })),
  }));
  return {
    kind: 'http',
    find(req) {
      const best = findBest(compiled, new RequestFacts(req), DEFAULT_HTTP_SUMMARY, compareHttpSummary);
      return best === undefined ? undefined : { kind: 'http', route: best.route, rule: best.rule, match: best.match };
    },
  };
}

export function grpcRoutes(routes: readonly GrpcRoute[]): CompiledH2Routes {
  const compiled = routes.map((route) => ({
    route,
    hosts: compileHosts(route.hosts),
    rules: route.rules.map((rule) => ({ rule, matchers: rule.matches.map(compileGrpcRouteMatch) })),
  }));
  return {
    kind: 'grpc',
    find(req) {
      const best = findBest(compiled, new RequestFacts(req), DEFAULT_GRPC_SUMMARY, compareGrpcSummary);
      return best === undefined ? undefined : { kind: 'grpc', route: best.route, rule: best.rule, match: best.match };
    },
  };
}

/** A rule without matches has the default summary; among equals the first route and rule win. */
function findBest<R, U, S>(
  routes: readonly Compiled<R, U, S>[],
  facts: RequestFacts,
  dflt: S,
  compare: (a: S, b: S) => number,
): { route: R; rule: U; match: S } | undefined {
  let best: { route: R; rule: U; match: S; host: HostSummary | undefined } | undefined;
  for (const r of routes) {
    const host = r.hosts(facts);
    if (host === null) continue;
    if (best !== undefined && compareHost(host, best.host) < 0) continue;
    for (const { rule, matchers } of r.rules) {
      let summary: S | undefined;
      if (matchers.length === 0) summary = dflt;
      else {
        for (const m of matchers) {
          const s = m(facts);
          if (s !== undefined && (summary === undefined || compare(s, summary) >= 0)) summary = s;
        }
      }
      if (summary === undefined) continue;
      if (best !== undefined) {
        const byHost = compareHost(host, best.host);
        if (byHost < 0 || (byHost === 0 && compare(summary, best.match) <= 0)) continue;
      }
      best = { route: r.route, rule, match: summary, host };
    }
  }
  return best;
}
