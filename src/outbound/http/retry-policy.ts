// A request's effective retry policy and timeouts (spec §5.5): the route's, with the l5d request
// headers' overrides on routes that allow them, and which responses are worth another attempt.
import type { BackoffConfig } from '../../core/backoff.js';
import type { HttpRetry, HttpRule, RouteTimeouts } from '../../discovery/outbound-policy-types.js';
import type { ResponseHead } from '../../http/h1/index.js';
import type { L5dOverrides } from './l5d-headers.js';

export interface RetryPolicy {
  readonly maxRetries: number;
  readonly maxRequestBytes: number;
  /** Retryable HTTP statuses (inclusive ranges); undefined ⇒ statuses are not considered. */
  readonly statusRanges: readonly (readonly [number, number])[] | undefined;
  /** Retryable grpc-status codes; undefined ⇒ not considered. */
  readonly grpcCodes: readonly number[] | undefined;
  /** Per-attempt deadline for the response head. */
  readonly timeoutMs: number | undefined;
  readonly backoff: BackoffConfig | undefined;
}

/** Header-only retries (no policy retry on the route): upstream's defaults. */
const HEADER_ONLY_MAX_REQUEST_BYTES = 64 * 1024;
const HEADER_ONLY_BACKOFF: BackoffConfig = Object.freeze({ minMs: 25, maxMs: 250, jitter: 1 });

const fromPolicy = new WeakMap<HttpRetry, RetryPolicy>();

/** The route's own policy, converted once per policy object. */
function policyRetry(r: HttpRetry): RetryPolicy {
  let p = fromPolicy.get(r);
  if (p === undefined) {
    p = Object.freeze({
      maxRetries: r.maxRetries,
      maxRequestBytes: r.maxRequestBytes,
      statusRanges: r.statusRanges,
      grpcCodes: undefined,
      timeoutMs: positive(r.timeoutMs),
      backoff: r.backoff === undefined ? undefined : { minMs: r.backoff.minMs, maxMs: r.backoff.maxMs, jitter: r.backoff.jitter },
    });
    fromPolicy.set(r, p);
  }
  return p;
}

/** The retry policy for one request, or undefined when it is sent once. */
export function effectiveRetry(rule: HttpRule, o: L5dOverrides | undefined): RetryPolicy | undefined {
  const base = rule.retry === undefined ? undefined : policyRetry(rule.retry);
  if (o === undefined || !rule.allowL5dRequestHeaders) return base;
  const { retryHttp, retryGrpc, retryLimit, retryTimeoutMs } = o;
  if (base !== undefined) {
    return {
      maxRetries: retryLimit ?? base.maxRetries,
      maxRequestBytes: base.maxRequestBytes,
      statusRanges: retryHttp ?? base.statusRanges,
      grpcCodes: retryGrpc ?? base.grpcCodes,
      timeoutMs: positive(retryTimeoutMs) ?? base.timeoutMs,
      backoff: base.backoff,
    };
  }
  if (retryHttp === undefined && retryGrpc === undefined && retryLimit === undefined && retryTimeoutMs === undefined) return undefined;
  return {
    maxRetries: retryLimit ?? 1,
    maxRequestBytes: HEADER_ONLY_MAX_REQUEST_BYTES,
    statusRanges: retryHttp,
    grpcCodes: retryGrpc,
    timeoutMs: positive(retryTimeoutMs),
    backoff: HEADER_ONLY_BACKOFF,
  };
}

export interface RequestTimeouts {
  /** Until the response ends, counted from when the request was sent (per attempt). */
  readonly responseMs: number | undefined;
  /** The whole exchange, retries included. */
  readonly requestMs: number | undefined;
}

const ruleTimeouts = new WeakMap<RouteTimeouts, RequestTimeouts>();

/** The route's timeouts, with l5d-request-timeout / l5d-timeout / l5d-response-timeout where allowed. */
export function effectiveTimeouts(rule: HttpRule, o: L5dOverrides | undefined): RequestTimeouts {
  const t: RouteTimeouts = rule.timeouts;
  if (o === undefined || !rule.allowL5dRequestHeaders) {
    let cached = ruleTimeouts.get(t);
    if (cached === undefined) {
      cached = Object.freeze({ responseMs: positive(t.responseMs), requestMs: positive(t.requestMs) });
      ruleTimeouts.set(t, cached);
    }
    return cached;
  }
  return {
    responseMs: positive(o.responseTimeoutMs ?? t.responseMs),
    requestMs: positive(o.requestTimeoutMs ?? t.requestMs),
  };
}

/** Whether a final response asks for another attempt: a retryable grpc-status, or a retryable status. */
export function retryableResponse(p: RetryPolicy, res: ResponseHead): boolean {
  if (p.grpcCodes !== undefined && p.grpcCodes.length > 0) {
    const v = res.headerValues('grpc-status')[0];
    if (v !== undefined && /^\d{1,5}$/.test(v) && p.grpcCodes.includes(Number(v))) return true;
  }
  const ranges = p.statusRanges;
  if (ranges !== undefined) {
    const s = res.status;
    for (const [a, b] of ranges) if (s >= a && s <= b) return true;
  }
  return false;
}

/** A zero or absent duration means "no deadline". */
function positive(ms: number | undefined): number | undefined {
  return ms !== undefined && ms > 0 ? ms : undefined;
}
