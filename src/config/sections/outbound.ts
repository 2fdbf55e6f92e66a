// The outbound proxy section: sockets, limits, queues, ingress mode and header/metric switches.
import { DEFAULTS } from '../defaults.js';
import { ENV } from '../env-names.js';
import type { EnvReader } from '../env-reader.js';
import { parseBool, parseDuration, uintParser } from '../formats.js';
import type { Http2ClientConfig, OutboundConfig } from '../types.js';
import { OUTBOUND_ENV } from './direction-env.js';
import { readConnect, readServer } from './sockets.js';

const usize = uintParser(Number.MAX_SAFE_INTEGER);

export function readOutbound(r: EnvReader, http2: Http2ClientConfig): OutboundConfig {
  const ingressMode = r.parse(ENV.INGRESS_MODE, parseBool) ?? false;
  return {
    server: readServer(r, OUTBOUND_ENV),
    connect: readConnect(
      r,
      OUTBOUND_ENV,
      {
        timeoutMs: DEFAULTS.outboundConnectTimeoutMs,
        backoff: DEFAULTS.outboundConnectBackoff,
        maxIdlePerEndpoint: DEFAULTS.outboundMaxIdleConnsPerEndpoint,
        poolIdleTimeoutMs: DEFAULTS.outboundHttp1PoolIdleTimeoutMs,
      },
      http2,
    ),
    maxInFlight: r.parse(OUTBOUND_ENV.maxInFlight, usize) ?? DEFAULTS.outboundMaxInFlight,
    detectTimeoutMs: r.parse(OUTBOUND_ENV.detectTimeout, parseDuration) ?? DEFAULTS.outboundDetectTimeoutMs,
    discoveryIdleTimeoutMs:
      r.parse(OUTBOUND_ENV.discoveryIdleTimeout, parseDuration) ?? DEFAULTS.outboundDiscoveryIdleTimeoutMs,
    httpQueue: {
      capacity: r.parse(OUTBOUND_ENV.httpQueueCapacity, usize) ?? DEFAULTS.outboundHttpQueueCapacity,
      failfastTimeoutMs:
        r.parse(OUTBOUND_ENV.httpFailfastTimeout, parseDuration) ?? DEFAULTS.outboundHttpFailfastTimeoutMs,
    },
    tcpQueue: {
      capacity: r.parse(ENV.OUTBOUND_TCP_QUEUE_CAPACITY, usize) ?? DEFAULTS.outboundTcpQueueCapacity,
      failfastTimeoutMs: r.parse(ENV.OUTBOUND_TCP_FAILFAST_TIMEOUT, parseDuration) ?? DEFAULTS.outboundTcpFailfastTimeoutMs,
    },
    ingressMode,
    // Ingress proxies omit informational headers unless told otherwise.
    disableInformationalHeaders: r.parse(ENV.OUTBOUND_DISABLE_INFORMATIONAL_HEADERS, parseBool) ?? ingressMode,
    metricsHostnameLabels: r.parse(ENV.OUTBOUND_METRICS_HOSTNAME_LABELS, parseBool) ?? false,
  };
}
