// Which opaque route carries an HTTP/2 or gRPC connection from the app while the outbound side has no HTTP/2 server of its own.
import type { Distribution, OpaqueRoute, OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import { opaqueRoute } from './serve-opaque.js';

const cache = new WeakMap<OutboundPolicy, OpaqueRoute | undefined>();

/**
 * HTTP/2 from the app is spliced, not routed per request: a Detect/Opaque policy uses its opaque
 * route; an Http2/Grpc policy (which has none) uses the backends of its first route's first rule,
 * so the connection still reaches the Service's endpoints over mTLS and the peer proxy serves
 * the HTTP/2. Per-request route matching, filters and retries do not apply to such connections.
 */
export function streamRouteOf(policy: OutboundPolicy): OpaqueRoute | undefined {
  if (cache.has(policy)) return cache.get(policy);
  const route = compute(policy);
  cache.set(policy, route);
  return route;
}

function compute(policy: OutboundPolicy): OpaqueRoute | undefined {
  const p = policy.protocol;
  if (p.kind !== 'http2' && p.kind !== 'grpc' && p.kind !== 'http1') return opaqueRoute(policy);
  const first = p.routes[0];
  const rule = first?.rules[0];
  if (first === undefined || rule === undefined) return undefined;
  return { meta: first.meta, rule: { filters: [], distribution: withoutFilters(rule.distribution) } };
}

function withoutFilters(d: Distribution<unknown>): Distribution<never> {
  switch (d.kind) {
    case 'empty':
      return d;
    case 'first-available':
      return { kind: 'first-available', backends: d.backends.map((b) => ({ ...b, filters: [] })) };
    case 'random-available':
      return { kind: 'random-available', backends: d.backends.map((w) => ({ weight: w.weight, backend: { ...w.backend, filters: [] } })) };
  }
}
