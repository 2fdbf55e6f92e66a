// Control-plane messages (in protobufjs object form) for outbound tests: policies, backends, endpoints.
import { duration, tcpAddress, type Wire } from './control-plane-codec.js';

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
  /** ProtocolHint h2: HTTP/1 requests are upgraded to HTTP/2 with l5d-orig-proto. */
  readonly h2?: boolean;
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
    ...(opts.opaqueTransportPort !== undefined
      ? { protocolHint: { opaque: {}, opaqueTransport: { inboundPort: opts.opaqueTransportPort } } }
      : opts.h2 === true
        ? { protocolHint: { h2: {} } }
        : {}),
  };
}

/** Destination `Update{add}` with set-level labels as the controller sends them. */
export function addUpdate(addrs: readonly Wire[], labels: Record<string, string> = { service: 'echo', namespace: 'test' }): Wire {
  return { add: { addrs, metricLabels: labels } };
}

export function removeUpdate(ip: string, ...ports: number[]): Wire {
  return { remove: { addrs: ports.map((p) => tcpAddress(ip, p)) } };
}

/** A match-all HTTP route to `backends` (first-available), as the controller's default Service route. */
export function httpRoute(backends: readonly Wire[], extra: Wire = {}): Wire {
  return {
    metadata: { default: 'http' },
    rules: [{ matches: [{ path: { prefix: '/' } }], backends: { firstAvailable: { backends: backends.map((backend) => ({ backend })) } }, ...extra }],
  };
}

/**
 * The policy a controller sends for a Service port: Detect (10s), HTTP/1 and HTTP/2 routes and
 * an opaque route, all to `backends`. `rule` adds fields to the HTTP rule (timeouts, retry…).
 */
export function servicePolicy(backends: readonly Wire[], rule: Wire = {}): Wire {
  const http = { routes: [httpRoute(backends, rule)] };
  return {
    metadata: serviceMeta(),
    protocol: {
      detect: {
        timeout: duration(10_000),
        opaque: { routes: [{ metadata: { default: 'opaq' }, rules: [{ backends: { firstAvailable: { backends: backends.map((backend) => ({ backend })) } } }] }] },
        http1: http,
        http2: http,
      },
    },
  };
}
