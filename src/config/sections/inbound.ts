// The inbound proxy section: sockets, limits, policy defaults and port sets, workload IPs, gateway.
import { DEFAULTS } from '../defaults.js';
import { ENV } from '../env-names.js';
import type { EnvReader } from '../env-reader.js';
import { parseDnsSuffixes, parseDuration, parseIpSet, parseNetworks, parsePortSet, uintParser } from '../formats.js';
import { EMPTY_PORT_SET, portSetWith } from '../port-set.js';
import type { DefaultPolicy, Http2ClientConfig, InboundConfig, IpNetwork, ListenersConfig } from '../types.js';
import { INBOUND_ENV } from './direction-env.js';
import { readConnect, readServer } from './sockets.js';

const usize = uintParser(Number.MAX_SAFE_INTEGER);

const POLICIES: readonly DefaultPolicy[] = [
  'deny',
  'all-authenticated',
  'all-unauthenticated',
  'cluster-authenticated',
  'cluster-unauthenticated',
  'audit',
];
const POLICY_EXPECTED = `one of ${POLICIES.join(', ')}`;

export function readInbound(r: EnvReader, listeners: ListenersConfig, http2: Http2ClientConfig): InboundConfig {
  const discoveryIdleTimeoutMs =
    r.parse(INBOUND_ENV.discoveryIdleTimeout, parseDuration) ?? DEFAULTS.inboundDiscoveryIdleTimeoutMs;
  const gatewaySuffixes = r.parse(ENV.INBOUND_GATEWAY_SUFFIXES, parseDnsSuffixes) ?? [];
  const clusterNetworks = r.parse(ENV.POLICY_CLUSTER_NETWORKS, parseNetworks) ?? [];
  const ports = r.parse(ENV.INBOUND_PORTS, parsePortSet) ?? EMPTY_PORT_SET;
  // The admin port's policy is always watched; the inbound port's only when acting as a gateway.
  const eager = portSetWith(ports, listeners.admin.port);
  const ips = r.parse(ENV.INBOUND_IPS, parseIpSet);

  return {
    server: readServer(r, INBOUND_ENV),
    connect: readConnect(
      r,
      INBOUND_ENV,
      {
        timeoutMs: DEFAULTS.inboundConnectTimeoutMs,
        backoff: DEFAULTS.inboundConnectBackoff,
        maxIdlePerEndpoint: DEFAULTS.inboundMaxIdleConnsPerEndpoint,
        poolIdleTimeoutMs: DEFAULTS.inboundHttp1PoolIdleTimeoutMs,
      },
      http2,
    ),
    maxInFlight: r.parse(INBOUND_ENV.maxInFlight, usize) ?? DEFAULTS.inboundMaxInFlight,
    detectTimeoutMs: r.parse(INBOUND_ENV.detectTimeout, parseDuration) ?? DEFAULTS.inboundDetectTimeoutMs,
    discoveryIdleTimeoutMs,
    httpQueue: {
      capacity: r.parse(INBOUND_ENV.httpQueueCapacity, usize) ?? DEFAULTS.inboundHttpQueueCapacity,
      failfastTimeoutMs: r.parse(INBOUND_ENV.httpFailfastTimeout, parseDuration) ?? DEFAULTS.inboundHttpFailfastTimeoutMs,
    },
    policy: {
      defaultPolicy: readDefaultPolicy(r, clusterNetworks),
      clusterNetworks,
      ports,
      eagerPorts: gatewaySuffixes.length > 0 ? portSetWith(eager, listeners.inbound.port) : eager,
      opaquePorts: r.parse(ENV.INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION, parsePortSet) ?? EMPTY_PORT_SET,
      cacheMaxIdleAgeMs: discoveryIdleTimeoutMs,
    },
    ips: ips === undefined || ips.length === 0 ? undefined : ips,
    gatewaySuffixes,
    metricsAuthorityLabels: readAuthorityLabels(r),
  };
}

/**
 * The six policy names (exact, case-sensitive). `cluster-*` need cluster networks. (Rust also
 * rejects `audit` without cluster networks — an ordering accident in its match; we accept it.)
 */
function readDefaultPolicy(r: EnvReader, clusterNetworks: readonly IpNetwork[]): DefaultPolicy {
  const raw = r.raw(ENV.INBOUND_DEFAULT_POLICY);
  if (raw === undefined) {
    r.warn(`${ENV.INBOUND_DEFAULT_POLICY} was not set; using \`${DEFAULTS.inboundDefaultPolicy}\``);
    return DEFAULTS.inboundDefaultPolicy;
  }
  const policy = POLICIES.find((p) => p === raw);
  if (policy === undefined) {
    r.invalid(ENV.INBOUND_DEFAULT_POLICY, raw, POLICY_EXPECTED, 'not a valid port policy');
    return DEFAULTS.inboundDefaultPolicy;
  }
  if (policy.startsWith('cluster-') && clusterNetworks.length === 0 && !r.failed(ENV.POLICY_CLUSTER_NETWORKS)) {
    r.rule(
      ENV.INBOUND_DEFAULT_POLICY,
      raw,
      `${POLICY_EXPECTED} (cluster-* only with ${ENV.POLICY_CLUSTER_NETWORKS})`,
      `the ${policy} default policy requires ${ENV.POLICY_CLUSTER_NETWORKS} to list the cluster's networks`,
    );
  }
  return policy;
}

function readAuthorityLabels(r: EnvReader): boolean {
  const raw = r.raw(ENV.INBOUND_METRICS_AUTHORITY_LABELS);
  if (raw === undefined || raw === '') return false;
  if (raw.toLowerCase() === 'unsafe') return true;
  r.invalid(ENV.INBOUND_METRICS_AUTHORITY_LABELS, raw, '`unsafe` (case-insensitive) or empty', 'authority labels may only be set to unsafe');
  return false;
}
