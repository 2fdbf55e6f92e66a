// The outbound HTTP/2 server's own answers (spec §4.7): the HTTP/1 side's synthetic responses with
// the gRPC code each gets (gRPC requests see HTTP 200 + grpc-status), and the HTTP/2-only ones.
import { connectFailure, type SyntheticResponse as H1Synthetic } from '../../http/h1/index.js';
import type { SyntheticResponse as H2Answer } from '../../policy/inbound/index.js';

export type { H2Answer };

/** gRPC status codes the proxy answers with. */
export const GRPC_OK = 0;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_NOT_FOUND = 5;
export const GRPC_PERMISSION_DENIED = 7;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_FAILED_PRECONDITION = 9;
export const GRPC_ABORTED = 10;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;

/**
 * The gRPC code of a synthetic answer by its HTTP status, as upstream's SyntheticHttpResponse
 * constructors pair them: 404 and redirects NOT_FOUND, 403 PERMISSION_DENIED, 429
 * RESOURCE_EXHAUSTED, 502/503 UNAVAILABLE, 504 DEADLINE_EXCEEDED, 508 ABORTED, other 5xx
 * INTERNAL; any other configured status (an injected failure) FAILED_PRECONDITION.
 */
export function grpcCodeForStatus(status: number): number {
  if (status === 404 || (status >= 300 && status < 400)) return GRPC_NOT_FOUND;
  switch (status) {
    case 403:
      return GRPC_PERMISSION_DENIED;
    case 429:
      return GRPC_RESOURCE_EXHAUSTED;
    case 502:
    case 503:
      return GRPC_UNAVAILABLE;
    case 504:
      return GRPC_DEADLINE_EXCEEDED;
    case 508:
      return GRPC_ABORTED;
    case 500:
      return GRPC_INTERNAL;
  }
  return GRPC_FAILED_PRECONDITION;
}

const converted = new WeakMap<H1Synthetic, H2Answer>();

/** An HTTP/1 synthetic response as an HTTP/2 answer (frozen ones are converted once). */
export function fromH1(s: H1Synthetic, grpcStatus: number = grpcCodeForStatus(s.status)): H2Answer {
  const cached = converted.get(s);
  if (cached !== undefined && cached.grpcStatus === grpcStatus) return cached;
  let location: string | undefined;
  for (const [name, value] of s.headers ?? []) if (name === 'location') location = value;
  const a: H2Answer =
    location === undefined
      ? { status: s.status, grpcStatus, closeConnection: s.close, message: s.message ?? '' }
      : { status: s.status, grpcStatus, closeConnection: s.close, message: s.message ?? '', location };
  if (Object.isFrozen(s)) converted.set(s, a);
  return a;
}

/** An injected failure on a gRPC route: HTTP 200 with the configured code; the connection stays. */
export function grpcInjected(code: number, message: string): H2Answer {
  return { status: 200, grpcStatus: code, closeConnection: false, message };
}

/**
 * A stream deadline passed before the response began: 504 / DEADLINE_EXCEEDED, keeping the
 * connection (upstream's `gateway_timeout_nonfatal` for stream timeouts).
 */
export function streamTimeout(message: string): H2Answer {
  return { status: 504, grpcStatus: GRPC_DEADLINE_EXCEEDED, closeConnection: false, message };
}

/** The endpoint's HTTP/2 stream or connection broke before a response head. */
export function upstreamFailure(message: string): H2Answer {
  return { status: 502, grpcStatus: GRPC_UNAVAILABLE, closeConnection: true, message };
}

/** No HTTP/2 connection to the endpoint: 504 / DEADLINE_EXCEEDED on a connect timeout, else 502 / UNAVAILABLE. */
export function connectFailed(err: unknown): H2Answer {
  return fromH1(connectFailure(err));
}
