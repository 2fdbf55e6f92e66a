// The HTTP/1 engine both pipelines use: strict parsing, byte-level forwarding, upstream pooling.
export { serveHttp1 } from './forwarder.js';
export type {
  ForwardDecision,
  ForwardRetry,
  Http1Handler,
  Http1Outcome,
  Http1Session,
  RespondDecision,
  RouteDecision,
  ServeHttp1Options,
} from './handler.js';
export { Http1Pool, UpstreamConnection, type Http1PoolOptions, type PoolStats, type UpstreamTarget } from './pool.js';
export { Http1Head, RequestHead, ResponseHead, type HttpVersion, type TargetForm } from './head.js';
export {
  RequestParser,
  ResponseParser,
  DEFAULT_MAX_HEAD_BYTES,
  DEFAULT_MAX_HEADERS,
  type HeadComplete,
  type HeadError,
  type HeadIncomplete,
  type HeadLimits,
  type HeadResult,
} from './parse-head.js';
export { ChunkedDecoder, EofDecoder, LengthDecoder, type BodyDecoder } from './body.js';
export { rewriteHead, type HeadEdits, type RewriteOptions } from './rewrite-head.js';
export { renderSyntheticResponse, httpDate, type RenderOptions, type SyntheticResponse } from './synthetic.js';
export { connectFailure, internalFailure, requestTimeout, responseTimeout, upstreamFailure } from './upstream-errors.js';
