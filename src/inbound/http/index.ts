// Inbound HTTP: protocol detection and the HTTP/1 and HTTP/2 servers in front of the local app.
export {
  detectHttp,
  classifyHttp,
  looksLikeHttp1Request,
  inboundDetectDecision,
  HTTP_DETECT_CAPACITY,
  type HttpDetected,
  type HttpDetectKind,
  type DetectHttpOptions,
  type InboundDetectDecision,
} from './detect-http.js';
export { createInboundHttp, inboundHttpFor, type InboundHttp, type InboundHttpOptions } from './inbound-http.js';
export { serveInboundHttp1 } from './serve-http1.js';
export { serveInboundH2 } from './serve-h2.js';
export { InboundHttpMetrics, inboundHttpMetrics, type InboundHttpMetricsOptions } from './metrics.js';
export { httpEndpointFamilies, type HttpEndpointFamilies } from './route-metrics.js';
export { parseOrigProto, ORIG_PROTO_HEADER, type OrigProto } from './orig-proto.js';
