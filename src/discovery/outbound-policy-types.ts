// The outbound (client) policy domain model: protocol, routes, backends and balancing, as plain immutable data.
import type { GrpcFilter, HeaderModifier, HostMatch, GrpcRouteMatch, HttpFilter, HttpRouteMatch } from '../policy/inbound/types.js';
import type { DestinationEndpoint, PolicyMeta } from './destination-types.js';

export type { GrpcRouteMatch, HostMatch, HttpRouteMatch, PolicyMeta };

/** Route filters: the inbound set plus response-header edits. `internal-error` fails the request with a 500. */
export type OutboundHttpFilter = HttpFilter | ({ readonly kind: 'response-header-modifier' } & HeaderModifier);
export type OutboundGrpcFilter = GrpcFilter;
/** Opaque and TLS route filters: refuse the connection, with a reason for `invalid`. */
export type OpaqueFilter = { readonly kind: 'invalid'; readonly message: string } | { readonly kind: 'forbidden' };

export interface Queue {
  readonly capacity: number;
  /** With no ready endpoint for this long, queued requests fail fast. */
  readonly failfastTimeoutMs: number;
}

export type BalancerLoad =
  | { readonly kind: 'peak-ewma'; readonly defaultRttMs: number; readonly decayMs: number }
  | {
      readonly kind: 'penalty-peak-ewma';
      readonly defaultRttMs: number;
      readonly decayMs: number;
      readonly penaltyMs: number;
      readonly maxRetryAfterMs: number;
      readonly penaltyDecayMs: number;
    };

export type BackendDispatch =
  /** P2C over the endpoints Destination.Get reports for `path` (e.g. `web.ns.svc.cluster.local:80`). */
  | { readonly kind: 'balancer'; readonly path: string; readonly load: BalancerLoad }
  /** Exactly this endpoint. */
  | { readonly kind: 'forward'; readonly endpoint: DestinationEndpoint }
  /** A backend without a dispatcher: requests to it fail with `message`. */
  | { readonly kind: 'fail'; readonly message: string };

export interface Backend {
  readonly meta: PolicyMeta;
  readonly queue: Queue;
  readonly dispatch: BackendDispatch;
}

export interface RouteBackend<F> {
  readonly backend: Backend;
  readonly filters: readonly F[];
}

export type Distribution<F> =
  /** No backends: requests fail. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'first-available'; readonly backends: readonly RouteBackend<F>[] }
  | { readonly kind: 'random-available'; readonly backends: readonly { readonly backend: RouteBackend<F>; readonly weight: number }[] };

export interface BackoffParams {
  readonly minMs: number;
  readonly maxMs: number;
  readonly jitter: number;
  /** Sent by v0.20 control planes; the Rust proxy does not act on it. */
  readonly respectRetryAfterHint: boolean;
}

export interface EjectionConfig {
  /** Circuit breaking keeps at least this many endpoints; 0 = no floor. */
  readonly minReadyEndpoints: number;
}

export type FailureAccrual =
  | { readonly kind: 'consecutive-failures'; readonly maxFailures: number; readonly backoff: BackoffParams; readonly ejection: EjectionConfig | undefined }
  | {
      readonly kind: 'unified';
      /** 0–1; 0 disables the success-rate dimension. */
      readonly successRateThreshold: number;
      /** The success-rate window (the wire calls it `decay`); 10s when absent. */
      readonly windowMs: number;
      readonly minRequests: number;
      readonly maxConsecutiveFailures: number;
      readonly backoff: BackoffParams;
      readonly ejection: EjectionConfig | undefined;
    };

export interface RouteTimeouts {
  readonly responseMs: number | undefined;
  /** `timeouts.request`, or the deprecated `requestTimeout` when that is unset. */
  readonly requestMs: number | undefined;
  readonly idleMs: number | undefined;
}

export interface HttpRetry {
  readonly maxRetries: number;
  readonly maxRequestBytes: number;
  /** Inclusive HTTP status ranges worth retrying. */
  readonly statusRanges: readonly (readonly [start: number, end: number])[];
  readonly timeoutMs: number | undefined;
  readonly backoff: BackoffParams | undefined;
}

export interface GrpcRetry {
  readonly maxRetries: number;
  readonly maxRequestBytes: number;
  /** gRPC status codes worth retrying (subset of CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE). */
  readonly codes: readonly number[];
  readonly timeoutMs: number | undefined;
  readonly backoff: BackoffParams | undefined;
}

export interface HttpRule {
  /** Any may match; empty matches every request. */
  readonly matches: readonly HttpRouteMatch[];
  readonly filters: readonly OutboundHttpFilter[];
  readonly distribution: Distribution<OutboundHttpFilter>;
  readonly timeouts: RouteTimeouts;
  readonly retry: HttpRetry | undefined;
  readonly allowL5dRequestHeaders: boolean;
}

export interface HttpRoute {
  readonly meta: PolicyMeta;
  /** Empty ⇒ every host. */
  readonly hosts: readonly HostMatch[];
  readonly rules: readonly HttpRule[];
}

export interface GrpcRule {
  readonly matches: readonly GrpcRouteMatch[];
  readonly filters: readonly OutboundGrpcFilter[];
  readonly distribution: Distribution<OutboundGrpcFilter>;
  readonly timeouts: RouteTimeouts;
  readonly retry: GrpcRetry | undefined;
  readonly allowL5dRequestHeaders: boolean;
}

export interface GrpcRoute {
  readonly meta: PolicyMeta;
  readonly hosts: readonly HostMatch[];
  readonly rules: readonly GrpcRule[];
}

/** Opaque and TLS routes have exactly one rule (there is nothing to match on yet). */
export interface OpaqueRule {
  readonly filters: readonly OpaqueFilter[];
  readonly distribution: Distribution<OpaqueFilter>;
}

export interface OpaqueRoute {
  readonly meta: PolicyMeta;
  readonly rule: OpaqueRule;
}

export interface TlsRoute {
  readonly meta: PolicyMeta;
  /** Same shape as host matches; empty ⇒ every SNI. */
  readonly snis: readonly HostMatch[];
  readonly rule: OpaqueRule;
}

export interface OpaqueProtocol {
  /** At most one; undefined ⇒ connections have no route and fail. */
  readonly route: OpaqueRoute | undefined;
}

export interface HttpProtocol {
  readonly routes: readonly HttpRoute[];
  readonly failureAccrual: FailureAccrual | undefined;
}

export type OutboundProtocol =
  | { readonly kind: 'detect'; readonly timeoutMs: number; readonly opaque: OpaqueProtocol; readonly http1: HttpProtocol; readonly http2: HttpProtocol }
  | ({ readonly kind: 'opaque' } & OpaqueProtocol)
  | ({ readonly kind: 'http1' } & HttpProtocol)
  | ({ readonly kind: 'http2' } & HttpProtocol)
  | { readonly kind: 'grpc'; readonly routes: readonly GrpcRoute[]; readonly failureAccrual: FailureAccrual | undefined }
  | { readonly kind: 'tls'; readonly routes: readonly TlsRoute[] };

export interface OutboundPolicy {
  /** What the policy describes: a Service, an EgressNetwork, or a default such as `egress-fallback`. */
  readonly meta: PolicyMeta;
  readonly protocol: OutboundProtocol;
  /** Every distinct backend the routes can pick (by object identity), for warming and metrics. */
  readonly backends: readonly Backend[];
}

/** What OutboundPolicies.Watch subscribers receive. */
export type OutboundPolicyView =
  | { readonly kind: 'policy'; readonly policy: OutboundPolicy }
  /**
   * The controller has no policy for the target (NotFound) or predates the API (Unimplemented).
   * For an address, `policy` forwards to it with no metadata (meta `default/fallback`); a caller
   * with a profile builds `profileEndpointPolicy` instead. For an authority it is undefined.
   */
  | { readonly kind: 'fallback'; readonly code: 'NotFound' | 'Unimplemented'; readonly policy: OutboundPolicy | undefined }
  /** The controller sent a policy the proxy cannot use: `policy` fails every request and connection. */
  | { readonly kind: 'invalid'; readonly message: string; readonly policy: OutboundPolicy }
  /** InvalidArgument / FailedPrecondition: discovery failed for good; the connection should be refused. */
  | { readonly kind: 'rejected'; readonly code: string; readonly message: string };
