// Outbound policies the proxy builds itself: forward/balance when the controller has none, and the invalid policy.
import { formatAddr, type SocketAddr } from '../transport/addr.js';
import type { DestinationEndpoint, DestinationProfile, PolicyMeta } from './destination-types.js';
import { defaultPolicyMeta } from './meta-decode.js';
import type { Backend, BalancerLoad, HttpProtocol, HttpRoute, OpaqueRoute, OutboundPolicy, Queue } from './outbound-policy-types.js';

export interface SynthesizeOptions {
  /** OUTBOUND_DETECT_TIMEOUT. */
  readonly detectTimeoutMs: number;
  /** The outbound TCP queue (OUTBOUND_TCP_QUEUE_*). */
  readonly queue: Queue;
}

export const FALLBACK_META: PolicyMeta = defaultPolicyMeta('fallback');
export const ENDPOINT_META: PolicyMeta = defaultPolicyMeta('endpoint');
export const INVALID_META: PolicyMeta = defaultPolicyMeta('invalid');
export const INVALID_POLICY_MESSAGE = 'invalid client policy configuration';

const MATCH_ALL = Object.freeze({ path: undefined, headers: Object.freeze([]), queryParams: Object.freeze([]), method: undefined });
const NONE = Object.freeze([]);

/** An endpoint with no metadata: plaintext, no hints, no labels (the original destination as dialled). */
export function bareEndpoint(addr: SocketAddr): DestinationEndpoint {
  return Object.freeze({
    key: formatAddr(addr),
    addr: Object.freeze({ ...addr }),
    weight: 0,
    metricLabels: Object.freeze({}),
    tlsIdentity: undefined,
    protocolHint: undefined,
    opaqueTransportPort: undefined,
    authorityOverride: undefined,
    http2: undefined,
    zoneLocal: undefined,
    resourceRef: undefined,
  });
}

/**
 * Detect with one match-all HTTP/1, HTTP/2 and opaque route, all to `backend` — the shape the
 * Rust proxy synthesises when it has no client policy.
 */
function policyForBackend(meta: PolicyMeta, backend: Backend, detectTimeoutMs: number): OutboundPolicy {
  const distribution = Object.freeze({ kind: 'first-available', backends: Object.freeze([Object.freeze({ backend, filters: NONE })]) } as const);
  const route: HttpRoute = Object.freeze({
    meta,
    hosts: NONE,
    rules: Object.freeze([
      Object.freeze({
        matches: Object.freeze([MATCH_ALL]),
        filters: NONE,
        distribution,
        timeouts: Object.freeze({ responseMs: undefined, requestMs: undefined, idleMs: undefined }),
        retry: undefined,
        allowL5dRequestHeaders: false,
      }),
    ]),
  });
  const http: HttpProtocol = Object.freeze({ routes: Object.freeze([route]), failureAccrual: undefined });
  const opaqueRoute: OpaqueRoute = Object.freeze({ meta, rule: Object.freeze({ filters: NONE, distribution }) });
  return Object.freeze({
    meta,
    protocol: Object.freeze({ kind: 'detect', timeoutMs: detectTimeoutMs, http1: http, http2: http, opaque: Object.freeze({ route: opaqueRoute }) }),
    backends: Object.freeze([backend]),
  });
}

/** Everything goes to `endpoint`, with its metadata (identity, hints) as discovered. */
export function forwardPolicy(meta: PolicyMeta, endpoint: DestinationEndpoint, opts: SynthesizeOptions): OutboundPolicy {
  const backend: Backend = Object.freeze({ meta, queue: opts.queue, dispatch: Object.freeze({ kind: 'forward', endpoint }) });
  return policyForBackend(meta, backend, opts.detectTimeoutMs);
}

/** Everything is balanced over Destination.Get(`path`). */
export function balancePolicy(meta: PolicyMeta, path: string, load: BalancerLoad, opts: SynthesizeOptions): OutboundPolicy {
  const backend: Backend = Object.freeze({ meta, queue: opts.queue, dispatch: Object.freeze({ kind: 'balancer', path, load }) });
  return policyForBackend(meta, backend, opts.detectTimeoutMs);
}

/** No policy and no profile: forward to the original destination with no metadata (meta `default/fallback`). */
export function origDstPolicy(origDst: SocketAddr, opts: SynthesizeOptions): OutboundPolicy {
  return forwardPolicy(FALLBACK_META, bareEndpoint(origDst), opts);
}

/** No policy but a profile: forward to its endpoint (or the original destination) with the profile's metadata (meta `default/endpoint`). */
export function profileEndpointPolicy(profile: DestinationProfile, origDst: SocketAddr, opts: SynthesizeOptions): OutboundPolicy {
  return forwardPolicy(ENDPOINT_META, profile.endpoint ?? bareEndpoint(origDst), opts);
}

/**
 * Replaces a policy the proxy could not decode: every HTTP request fails with a 500 and every
 * opaque connection is refused, under meta `default/invalid`.
 */
export function invalidOutboundPolicy(detectTimeoutMs: number): OutboundPolicy {
  const http: HttpProtocol = Object.freeze({
    routes: Object.freeze([
      Object.freeze({
        meta: INVALID_META,
        hosts: NONE,
        rules: Object.freeze([
          Object.freeze({
            matches: Object.freeze([MATCH_ALL]),
            filters: Object.freeze([Object.freeze({ kind: 'internal-error', message: INVALID_POLICY_MESSAGE } as const)]),
            distribution: Object.freeze({ kind: 'empty' } as const),
            timeouts: Object.freeze({ responseMs: undefined, requestMs: undefined, idleMs: undefined }),
            retry: undefined,
            allowL5dRequestHeaders: false,
          }),
        ]),
      }),
    ]),
    failureAccrual: undefined,
  });
  const opaqueRoute: OpaqueRoute = Object.freeze({
    meta: INVALID_META,
    rule: Object.freeze({
      filters: Object.freeze([Object.freeze({ kind: 'invalid', message: INVALID_POLICY_MESSAGE } as const)]),
      distribution: Object.freeze({ kind: 'empty' } as const),
    }),
  });
  return Object.freeze({
    meta: INVALID_META,
    protocol: Object.freeze({ kind: 'detect', timeoutMs: detectTimeoutMs, http1: http, http2: http, opaque: Object.freeze({ route: opaqueRoute }) }),
    backends: NONE,
  });
}
