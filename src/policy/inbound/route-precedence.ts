// Upstream linkerd_http_route::find: the best route and rule for a request, shared by inbound authorization and both outbound servers.
import { compareHost, type HostSummary, type RequestFacts } from './match-http.js';

/** A compiled route as the ranking sees it: its host matcher and its rules' matchers. */
export interface RankedRoute<U, S> {
  /** null: the route's hosts exclude the request; undefined: the route names no hosts. */
  readonly hosts: (facts: RequestFacts) => HostSummary | undefined | null;
  readonly rules: readonly { readonly rule: U; readonly matchers: readonly ((f: RequestFacts) => S | undefined)[] }[];
}

/** The rule type of a compiled route. */
export type RuleOf<C> = C extends RankedRoute<infer U, infer _S> ? U : never;

export interface RouteChoice<C, U, S> {
  readonly route: C;
  readonly rule: U;
  readonly host: HostSummary | undefined;
  /** How the request matched the rule (a redirect's prefix replacement needs it). */
  readonly summary: S;
}

/**
 * Routes are ranked by host match (none < suffix < exact, longer wins), then by the rule's best
 * match summary; a rule without matches has the default summary. Among equals the first
 * route/rule wins; among one rule's matches the last maximum is kept (Rust `Iterator::max`),
 * which only matters for which path kind a redirect sees.
 */
export function findBestRoute<C extends RankedRoute<unknown, S>, S>(
  routes: readonly C[],
  facts: RequestFacts,
  defaultSummary: S,
  compare: (a: S, b: S) => number,
): RouteChoice<C, RuleOf<C>, S> | undefined {
  let best: RouteChoice<C, RuleOf<C>, S> | undefined;
  for (const route of routes) {
    const host = route.hosts(facts);
    if (host === null) continue;
    if (best !== undefined && compareHost(host, best.host) < 0) continue;
    for (const { rule, matchers } of route.rules) {
      let summary: S | undefined;
      if (matchers.length === 0) summary = defaultSummary;
      else {
        for (const m of matchers) {
          const s = m(facts);
          if (s !== undefined && (summary === undefined || compare(s, summary) >= 0)) summary = s;
        }
      }
      if (summary === undefined) continue;
      if (best !== undefined) {
        const byHost = compareHost(host, best.host);
        if (byHost < 0 || (byHost === 0 && compare(summary, best.summary) <= 0)) continue;
      }
      best = { route, rule: rule as RuleOf<C>, host, summary };
    }
  }
  return best;
}
