// Control-plane messages (in protobufjs object form) for the outbound tests: policies, backends, endpoints.
import { duration, tcpAddress, type Wire } from '../../../support/control-plane-codec.js';

export const SERVICE_PATH = 'echo.test.svc.cluster.local:80';

export function serviceMeta(name = 'echo'): Wire {
  return { resource: { group: 'core', kind: 'Service', name, namespace: 'test', port: 80 } };
}

export interface QueueOpts {
  readonly capacity?: number;
  readonly failfastMs?: number;
}

function queue(q: QueueOpts): Wire {
  return { capacity: q.capacity ?? 100, failfastTimeout: duration(q.failfastMs ?? 3000) };
}

/** A P2C backend resolved with Destination.Get(path), as the controller builds for a Service. */
export function balancerBackend(path: string = SERVICE_PATH, q: QueueOpts = {}, name = 'echo'): Wire {
  return {
    metadata: serviceMeta(name),
    queue: queue(q),
    balancer: { discovery: { dst: { path } }, peakEwma: { defaultRtt: duration(30), decay: duration(10_000) } },
  };
}

export function forwardBackend(addr: Wire, q: QueueOpts = {}): Wire {
  return { metadata: serviceMeta('forward'), queue: queue(q), forward: addr };
}

/** A backend with no dispatcher: everything sent to it fails. */
export function failingBackend(): Wire {
  return { metadata: serviceMeta('broken'), queue: queue({}) };
}

/** `OutboundPolicy` with protocol Opaque and one route to `backends` (first-available). */
export function opaquePolicy(backends: readonly Wire[], filters: readonly Wire[] = []): Wire {
  return {
    metadata: serviceMeta(),
    protocol: {
      opaque: {
        routes: [{ metadata: { default: 'opaq' }, rules: [{ backends: { firstAvailable: { backends: backends.map((backend) => ({ backend })) } }, filters }] }],
      },
    },
  };
}

export interface AddrOpts {
  readonly labels?: Record<string, string>;
  /** DNS identity (SNI = the same name unless serverName says otherwise). */
  readonly dnsIdentity?: string;
  readonly uriIdentity?: string;
  readonly serverName?: string;
  readonly opaqueTransportPort?: number;
}

/** A `WeightedAddr`. */
export function weightedAddr(ip: string, port: number, opts: AddrOpts = {}): Wire {
  const tlsIdentity =
    opts.dnsIdentity !== undefined
      ? { dnsLikeIdentity: { name: opts.dnsIdentity }, ...(opts.serverName !== undefined ? { serverName: { name: opts.serverName } } : {}) }
      : opts.uriIdentity !== undefined
        ? { uriLikeIdentity: { uri: opts.uriIdentity }, serverName: { name: opts.serverName ?? '' } }
        : undefined;
  return {
    addr: tcpAddress(ip, port),
    weight: 10_000,
    metricLabels: opts.labels ?? {},
    ...(tlsIdentity !== undefined ? { tlsIdentity } : {}),
    ...(opts.opaqueTransportPort !== undefined ? { protocolHint: { opaque: {}, opaqueTransport: { inboundPort: opts.opaqueTransportPort } } } : {}),
  };
}

/** Destination `Update{add}` with set-level labels as the controller sends them. */
export function addUpdate(addrs: readonly Wire[], labels: Record<string, string> = { service: 'echo', namespace: 'test' }): Wire {
  return { add: { addrs, metricLabels: labels } };
}

export function removeUpdate(ip: string, ...ports: number[]): Wire {
  return { remove: { addrs: ports.map((p) => tcpAddress(ip, p)) } };
}
