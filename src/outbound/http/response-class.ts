// How a response is classified for the legacy `response_total` family and failure accrual, as
// upstream's linkerd_app_core::classify does: by HTTP status, or for gRPC by its grpc-status.

/** The grpc-status of a gRPC response that ended without one: counted as Unknown, yet a success. */
export const GRPC_UNKNOWN = 2;
/** The highest code tonic knows (Unauthenticated); anything above reads as Unknown. */
export const GRPC_MAX_CODE = 16;

/** Upstream's default failure codes: DataLoss, DeadlineExceeded, Internal, PermissionDenied, Unavailable, Unknown. */
const FAILING = new Set([15, 4, 13, 7, 14, GRPC_UNKNOWN]);

const U16 = /^\+?\d{1,5}$/;

/**
 * A `grpc-status` value as upstream reads it: a u16 (Rust's parse, so an optional `+`), codes
 * beyond tonic's range being Unknown; undefined when absent or not a number, so the trailers
 * (or the end of the stream) decide instead.
 */
export function grpcCode(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || !U16.test(s)) return undefined;
  const n = Number(s);
  if (n > 0xffff) return undefined;
  return n > GRPC_MAX_CODE ? GRPC_UNKNOWN : n;
}

/** Whether a code read by grpcCode is one of the default failure codes. */
export function isGrpcFailure(code: number): boolean {
  return FAILING.has(code);
}

/**
 * Whether a request's response is classified as gRPC: every call on a GRPCRoute (upstream's
 * ClientPolicy::Grpc) and any request whose content-type starts with application/grpc (its
 * is_grpc, which also covers gRPC sent over an HTTPRoute). The response's HTTP status is then
 * not consulted.
 */
export function classifiedAsGrpc(routeKind: 'http' | 'grpc', contentType: string | undefined): boolean {
  return routeKind === 'grpc' || (contentType !== undefined && contentType.startsWith('application/grpc'));
}

/**
 * A finished gRPC response's outcome: the code it is counted with and whether it failed. A
 * response that never carried a grpc-status (no trailers, or the stream dropped) is Unknown but
 * not a failure, as upstream's end-of-stream classification has it.
 */
export function grpcOutcome(code: number | undefined): { readonly code: number; readonly failure: boolean } {
  if (code === undefined) return UNKNOWN_OK;
  return OUTCOMES[code] ?? UNKNOWN_OK;
}

/** Whether an HTTP (non-gRPC) response failed: upstream's default StatusRanges, 5xx. */
export function isHttpFailure(status: number): boolean {
  return status >= 500 && status <= 599;
}

const UNKNOWN_OK = Object.freeze({ code: GRPC_UNKNOWN, failure: false });
const OUTCOMES = Array.from({ length: GRPC_MAX_CODE + 1 }, (_, code) => Object.freeze({ code, failure: isGrpcFailure(code) }));
