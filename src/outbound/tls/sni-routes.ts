// Outbound TLS passthrough routing (spec §5.6): the ClientHello's SNI picks one of the policy's TLS routes; nothing is terminated.
import type { OpaqueRoute, OutboundPolicy, TlsRoute } from '../../discovery/outbound-policy-types.js';
import { compareHost, compileHostMatch, type HostSummary } from '../../policy/inbound/match-http.js';

const compiled = new WeakMap<TlsRoute, readonly ((host: string) => HostSummary | undefined)[]>();

function matchersOf(route: TlsRoute): readonly ((host: string) => HostSummary | undefined)[] {
  let m = compiled.get(route);
  if (m === undefined) {
    m = route.snis.map(compileHostMatch);
    compiled.set(route, m);
  }
  return m;
}

/**
 * The TLS route for `sni` under `policy` (as an opaque route: same rule shape): the most
 * specific SNI match wins (exact over wildcard, then the longer suffix), a route without SNI
 * matches any connection, including one without SNI; ties keep policy order.
 */
export function tlsRouteFor(policy: OutboundPolicy, sni: string | undefined): OpaqueRoute | undefined {
  const p = policy.protocol;
  if (p.kind !== 'tls') return undefined;
  let best: TlsRoute | undefined;
  let bestSummary: HostSummary | undefined;
  for (const route of p.routes) {
    if (route.snis.length === 0) {
      if (best === undefined) best = route;
      continue;
    }
    if (sni === undefined) continue;
    for (const m of matchersOf(route)) {
      const s = m(sni);
      if (s !== undefined && (bestSummary === undefined || compareHost(s, bestSummary) > 0)) {
        best = route;
        bestSummary = s;
      }
    }
  }
  return best === undefined ? undefined : { meta: best.meta, rule: best.rule };
}
