// Default values of every variable that has one, exactly as the Rust proxy defines them.
import type { BackoffConfig, DefaultPolicy } from './types.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const DEFAULTS = {
  inboundListenAddr: '0.0.0.0:4143',
  outboundListenAddr: '127.0.0.1:4140',
  adminListenAddr: '127.0.0.1:4191',
  controlListenAddr: '0.0.0.0:4190',

  inboundDefaultPolicy: 'all-unauthenticated' satisfies DefaultPolicy,
  inboundDetectTimeoutMs: 10 * SECOND,
  outboundDetectTimeoutMs: 10 * SECOND,

  inboundConnectTimeoutMs: 300,
  outboundConnectTimeoutMs: 1 * SECOND,
  inboundConnectBackoff: { minMs: 100, maxMs: 10 * SECOND, jitter: 0.1 } satisfies BackoffConfig,
  outboundConnectBackoff: { minMs: 100, maxMs: 60 * SECOND, jitter: 0.1 } satisfies BackoffConfig,

  inboundMaxIdleConnsPerEndpoint: 10_000,
  outboundMaxIdleConnsPerEndpoint: 10_000,
  inboundHttp1PoolIdleTimeoutMs: 3 * SECOND,
  outboundHttp1PoolIdleTimeoutMs: 3 * SECOND,
  inboundMaxInFlight: 100_000,
  outboundMaxInFlight: 100_000,
  inboundHttpQueueCapacity: 10_000,
  inboundHttpFailfastTimeoutMs: 1 * SECOND,
  outboundHttpQueueCapacity: 10_000,
  outboundHttpFailfastTimeoutMs: 3 * SECOND,
  outboundTcpQueueCapacity: 10_000,
  outboundTcpFailfastTimeoutMs: 3 * SECOND,
  inboundDiscoveryIdleTimeoutMs: 90 * SECOND,
  outboundDiscoveryIdleTimeoutMs: 5 * SECOND,

  metricsRetainIdleMs: 10 * MINUTE,
  shutdownGracePeriodMs: 2 * MINUTE,
  shutdownEndpointEnabled: false,

  /** RFC 9113 initial window. */
  http2InitialStreamWindowSize: 65_535,
  /** 1 MiB ≈ 16 streams at full window. */
  http2InitialConnectionWindowSize: 1_048_576,

  destinationContext: '',
  destinationProfileSuffixes: 'svc.cluster.local.',
  destinationProfileInitialTimeoutMs: 500,
  /** Control-plane clients' request buffer (not configurable). */
  controlQueueCapacity: 100,
  /** Policy client's failfast (not configurable; the others follow the inbound/outbound HTTP queue). */
  policyFailfastTimeoutMs: 10 * SECOND,

  spireBackoff: { minMs: 100, maxMs: 1 * SECOND, jitter: 0.1 } satisfies BackoffConfig,
  identityMinRefreshMs: 10 * SECOND,
  identityMaxRefreshMs: 24 * HOUR,

  logFilter: 'warn,linkerd=info,hickory=error',
  logFormat: 'plain' as const,
} as const;
