// What an HTTP/2 request takes from its route (spec §5.5): the matched rule, the route's series,
// its timeouts and retry policy (l5d overrides when the rule allows them), the request body with
// its replay limit, and the request head every attempt starts from.
import type http2 from 'node:http2';
import type { OutboundPolicy } from '../../discovery/outbound-policy-types.js';
import { H2RequestView } from '../../inbound/http/request-view.js';
import { NO_ROUTE } from '../http/responses.js';
import { classifiedAsGrpc } from '../http/response-class.js';
import type { OutboundRouteMetrics, RouteSeries } from '../http/route-metrics.js';
import { fromH1, type H2Answer } from './answers.js';
import { requestHeaders, type OutgoingHeaders, type RequestLine } from './headers.js';
import { RequestBody } from './request-body.js';
import { effectiveRetryH2, effectiveTimeoutsH2, l5dOverridesH2, type RequestTimeouts } from './retry-policy.js';
import { RetryState } from './retry-state.js';
import { routeKey } from './route-key.js';
import { h2Routes, type H2RouteHit } from './routes.js';

export interface RoutePlan {
  readonly hit: H2RouteHit;
  readonly view: H2RequestView;
  readonly series: RouteSeries;
  readonly timeouts: RequestTimeouts;
  /** Undefined: no retry policy, or a body declared longer than it may replay. */
  readonly retry: RetryState | undefined;
  readonly body: RequestBody;
  readonly base: OutgoingHeaders;
  readonly line: RequestLine;
  /** Attempts are classified by grpc-status (a GRPCRoute, or an application/grpc request). */
  readonly classifyGrpc: boolean;
}

/** The app's request stream as the plan needs it. */
export interface RouteRequest {
  readonly down: http2.ServerHttp2Stream;
  readonly headers: http2.IncomingHttpHeaders;
  readonly raw: readonly string[];
  readonly endStream: boolean;
  /** The original destination `ip:port`: the authority of requests that name none. */
  readonly origDst: string;
}

/** The plan, or the proxy's own answer (an `unexpected` error without a route label) when no route applies. */
export type RouteResult = { readonly plan: RoutePlan; readonly answer?: undefined } | { readonly plan?: undefined; readonly answer: H2Answer };

const NO_ROUTE_H2 = fromH1(NO_ROUTE);

export function planRoute(policy: OutboundPolicy, req: RouteRequest, routeMetrics: OutboundRouteMetrics, random: () => number): RouteResult {
  const routes = h2Routes(policy);
  if (routes === null) {
    const msg = `the target's ${policy.protocol.kind} policy has no HTTP/2 routes`;
    return { answer: { status: 500, grpcStatus: 13, closeConnection: true, message: msg } };
  }
  const headers = req.headers;
  const view = new H2RequestView().reset(headers, req.origDst);
  const hit = routes.find(view);
  if (hit === undefined) return { answer: NO_ROUTE_H2 };
  const classifyGrpc = classifiedAsGrpc(hit.kind, single(headers['content-type']));
  const series = routeMetrics.route(policy.meta, routeKey(hit), view.authority!);
  const rule = hit.rule;
  const overrides = rule.allowL5dRequestHeaders ? l5dOverridesH2(headers) : undefined;
  const timeouts = effectiveTimeoutsH2(hit.kind, rule, overrides);
  const policyRetry = effectiveRetryH2(hit.kind, rule, overrides);
  const length = Number(single(headers['content-length']) ?? 0);
  let retry: RetryState | undefined;
  let replay: number | undefined;
  // A body declared longer than the replay limit is never retried (upstream's ReplayBody).
  if (policyRetry !== undefined && !(length > policyRetry.maxRequestBytes)) {
    retry = new RetryState(policyRetry, series.retry(), random);
    replay = policyRetry.maxRequestBytes;
  }
  const body = new RequestBody(req.down, req.endStream, replay);
  const base = requestHeaders(req.raw, overrides?.present);
  const line: RequestLine = {
    method: view.method,
    scheme: view.scheme ?? 'http',
    authority: view.authority!,
    path: single(headers[':path']) ?? '/',
  };
  return { plan: { hit, view, series, timeouts, retry, body, base, line, classifyGrpc } };
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
