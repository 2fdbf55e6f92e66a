// Outbound HTTP/2: the prior-knowledge server that routes each app stream through client policy.
export { OutboundHttp2, outboundHttp2, type OutboundHttp2Options } from './serve-h2.js';
export { grpcCodeForStatus, fromH1, type H2Answer } from './answers.js';
export { h2Routes, httpRoutes, grpcRoutes, type CompiledH2Routes, type H2RouteHit } from './routes.js';
export { effectiveRetryH2, effectiveTimeoutsH2, l5dOverridesH2, retryableH2, parseGrpcStatus } from './retry-policy.js';
