// The route families key a request by its HTTP route; a GRPCRoute gets an HTTP-route-shaped
// stand-in with the same metadata, made once per route object.
import type { HttpRoute } from '../../discovery/outbound-policy-types.js';
import type { H2RouteHit } from './routes.js';

const routeKeys = new WeakMap<object, HttpRoute>();

export function routeKey(hit: H2RouteHit): HttpRoute {
  if (hit.kind === 'http') return hit.route;
  let k = routeKeys.get(hit.route);
  if (k === undefined) {
    k = { meta: hit.route.meta, hosts: hit.route.hosts, rules: [] };
    routeKeys.set(hit.route, k);
  }
  return k;
}
