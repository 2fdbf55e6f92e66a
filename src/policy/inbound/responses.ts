// What the inbound proxy answers when policy rejects a request (spec §4.7), as data for the HTTP layer to render.
import type { RateLimitDecision } from './rate-limit.js';

/** gRPC status codes used here. */
export const GrpcCode = Object.freeze({
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
});

export interface SyntheticResponse {
  /** HTTP status for non-gRPC requests. */
  readonly status: number;
  /** `grpc-status` for gRPC requests (which get HTTP 200 instead of `status`). */
  readonly grpcStatus: number;
  /** Close the client connection after responding. */
  readonly closeConnection: boolean;
  /** The error text (`l5d-proxy-error`/`grpc-message` when informational headers are emitted). */
  readonly message: string;
  /** `location` header of a redirect (HTTP only). */
  readonly location?: string;
}

/**
 * The fixed rejections, mirroring upstream `ServerRescue` (linkerd/app/inbound/src/http/server.rs)
 * and the `SyntheticHttpResponse` constructors (linkerd/app/core/src/errors/respond.rs).
 */
export const INBOUND_REJECTIONS = Object.freeze({
  'not-found': Object.freeze({ status: 404, grpcStatus: GrpcCode.NOT_FOUND, closeConnection: false, message: 'no route found for request' }),
  denied: Object.freeze({ status: 403, grpcStatus: GrpcCode.PERMISSION_DENIED, closeConnection: false, message: 'unauthorized request on route' }),
  'rate-limited': Object.freeze({ status: 429, grpcStatus: GrpcCode.RESOURCE_EXHAUSTED, closeConnection: false, message: 'rate limit exceeded' }),
  /** An invalid redirect filter result; also injected failures, which the inbound rescue does not special-case. */
  'unexpected-error': Object.freeze({ status: 500, grpcStatus: GrpcCode.INTERNAL, closeConnection: true, message: 'unexpected error' }),
} satisfies Record<string, SyntheticResponse>);

export type InboundRejection = keyof typeof INBOUND_REJECTIONS;

export function inboundRejection(kind: InboundRejection): SyntheticResponse {
  return INBOUND_REJECTIONS[kind];
}

/** 429 carrying the limiter's own message (e.g. `total rate limit exceeded: 10rps`). */
export function rateLimitedResponse(decision: Extract<RateLimitDecision, { limited: true }>): SyntheticResponse {
  return { ...INBOUND_REJECTIONS['rate-limited'], message: decision.message };
}

/** An internal-error filter (unknown filter, or the invalid policy): 500, connection closed. */
export function internalErrorResponse(filterMessage: string): SyntheticResponse {
  return { status: 500, grpcStatus: GrpcCode.INTERNAL, closeConnection: true, message: `invalid server policy: ${filterMessage}` };
}

/** A redirect filter's answer: the configured 3xx and `location`; gRPC clients see NOT_FOUND. */
export function redirectResponse(status: number, location: string): SyntheticResponse {
  return { status, grpcStatus: GrpcCode.NOT_FOUND, closeConnection: false, message: 'redirected', location };
}

/** gRPC requests are HTTP/2 with a `content-type` starting `application/grpc`. */
export function isGrpcRequest(httpVersionMajor: number, contentType: string | undefined): boolean {
  return httpVersionMajor === 2 && contentType !== undefined && contentType.startsWith('application/grpc');
}

/** The status line and gRPC code to send: gRPC ⇒ HTTP 200 with `grpc-status`, else the HTTP status. */
export function responseStatus(rsp: SyntheticResponse, grpc: boolean): { readonly httpStatus: number; readonly grpcStatus: number | undefined } {
  return grpc ? { httpStatus: 200, grpcStatus: rsp.grpcStatus } : { httpStatus: rsp.status, grpcStatus: undefined };
}

/** TCP connections refused by policy are closed; this is the logged reason (upstream `ServerUnauthorized`). */
export function tcpDeniedMessage(server: { readonly kind: string; readonly name: string }): string {
  return `unauthorized connection on ${server.kind}/${server.name}`;
}
