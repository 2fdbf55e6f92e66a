// Outbound HTTP: detection, the HTTP/1 server over client policy (routes, retries, timeouts), orig-proto
// upgrades, and the endpoint, route and error metrics.
export { detectOutboundHttp, DETECT_EOF_MESSAGE, type DetectOutboundOptions, type OutboundDetectKind, type OutboundDetected } from './detect.js';
export { OutboundHttp1, outboundHttp1, serveOutboundHttp1, type OutboundHttp1Options } from './serve-http1.js';
export { OutboundHttpClients, EndpointClient } from './endpoint-clients.js';
export { httpFamilies, outboundEndpointLabels, EndpointHttpMetrics, StatusSeries, type HttpFamilies } from './metrics.js';
export { DowngradedH2Error, L5D_ORIG_PROTO, h2ReasonText } from './h2-translate.js';
export { OutboundRouteMetrics, outboundRouteMetrics, RouteSeries, RouteBackendSeries, type RouteErrorLabel } from './route-metrics.js';
export { OutboundHttpErrors, outboundHttpErrors, type OutboundHttpErrorKind } from './errors-metric.js';
export { l5dOverrides, parseDuration, parseGrpcConditions, parseHttpConditions, L5D_REQUEST_HEADERS, type L5dOverrides } from './l5d-headers.js';
export { effectiveRetry, effectiveTimeouts, retryableResponse, type RetryPolicy, type RequestTimeouts } from './retry-policy.js';
