// Outbound HTTP: detection, the HTTP/1 server over client policy, orig-proto upgrades, endpoint metrics.
export { detectOutboundHttp, DETECT_EOF_MESSAGE, type DetectOutboundOptions, type OutboundDetectKind, type OutboundDetected } from './detect.js';
export { OutboundHttp1, outboundHttp1, serveOutboundHttp1, type OutboundHttp1Options } from './serve-http1.js';
export { OutboundHttpClients, EndpointClient } from './endpoint-clients.js';
export { httpFamilies, outboundEndpointLabels, EndpointHttpMetrics, StatusSeries, type HttpFamilies } from './metrics.js';
export { DowngradedH2Error, L5D_ORIG_PROTO, h2ReasonText } from './h2-translate.js';
