// The OutboundPolicy shapes the policy controller sends: a Service's default policy, egress-fallback, undefined-port.
import type { Wire } from './types.js';
import { DETECT_TIMEOUT_MS, defaultMeta, duration, resourceMeta, tcpAddress } from './wire.js';

/** Every backend's request queue: 100 requests, failing fast after 3s without a ready endpoint. */
const QUEUE: Wire = { capacity: 100, failfastTimeout: duration(3_000) };

/** Peak-EWMA defaults: 30ms assumed latency, 10s decay. */
const PEAK_EWMA: Wire = { defaultRtt: duration(30), decay: duration(10_000) };

export type AppProtocol = 'http1' | 'http2' | 'opaque' | undefined;

export interface ServiceTarget {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  /** `<svc>.<ns>.svc.<domain>:<port>`: what the proxy resolves with Destination.Get. */
  readonly authority: string;
}

function serviceMeta(t: ServiceTarget): Wire {
  return resourceMeta({ group: 'core', kind: 'Service', name: t.name, namespace: t.namespace, port: t.port });
}

function serviceBackend(t: ServiceTarget): Wire {
  return {
    metadata: serviceMeta(t),
    queue: QUEUE,
    balancer: { discovery: { dst: { path: t.authority } }, peakEwma: PEAK_EWMA },
  };
}

function firstAvailable(backend: Wire): Wire {
  return { firstAvailable: { backends: [{ backend }] } };
}

/** The route every Service gets without HTTPRoutes: all paths to the Service backend. */
function defaultHttpRoute(backend: Wire): Wire {
  return {
    metadata: defaultMeta('http'),
    rules: [{ matches: [{ path: { prefix: '/' } }], backends: firstAvailable(backend), timeouts: {} }],
  };
}

function opaqueRoute(backend: Wire): Wire {
  return { metadata: defaultMeta('opaq'), rules: [{ backends: firstAvailable(backend) }] };
}

/**
 * A Service port's policy with no routes attached: Detect (HTTP/1, HTTP/2 and opaque branches),
 * or the single protocol an `appProtocol` / opaque port fixes.
 */
export function servicePolicy(t: ServiceTarget, app: AppProtocol): Wire {
  const backend = serviceBackend(t);
  let protocol: Wire;
  switch (app) {
    case 'http1':
      protocol = { http1: { routes: [defaultHttpRoute(backend)] } };
      break;
    case 'http2':
      protocol = { http2: { routes: [defaultHttpRoute(backend)] } };
      break;
    case 'opaque':
      protocol = { opaque: { routes: [opaqueRoute(backend)] } };
      break;
    case undefined:
      protocol = {
        detect: {
          timeout: duration(DETECT_TIMEOUT_MS),
          opaque: { routes: [opaqueRoute(backend)] },
          http1: { routes: [defaultHttpRoute(backend)] },
          http2: { routes: [defaultHttpRoute(backend)] },
        },
      };
  }
  return { metadata: serviceMeta(t), protocol };
}

/** A port the Service does not define: an opaque route whose only filter forbids the connection. */
export function undefinedPortPolicy(t: Omit<ServiceTarget, 'authority'>): Wire {
  return {
    metadata: resourceMeta({ group: 'core', kind: 'Service', name: t.name, namespace: t.namespace, port: t.port }),
    protocol: {
      opaque: { routes: [{ metadata: defaultMeta('undefined-port'), rules: [{ backends: { empty: {} }, filters: [{ forbidden: {} }] }] }] },
    },
  };
}

/** An address outside the cluster networks: forward to it as is, HTTP detected or opaque. */
export function egressFallbackPolicy(ip: string, port: number): Wire {
  const meta = defaultMeta('egress-fallback');
  const backend: Wire = { metadata: meta, queue: QUEUE, forward: { addr: tcpAddress(ip, port), weight: 1 } };
  const http: Wire = { routes: [{ metadata: meta, rules: [{ matches: [{}], backends: firstAvailable(backend) }] }] };
  return {
    metadata: meta,
    protocol: {
      detect: {
        timeout: duration(DETECT_TIMEOUT_MS),
        opaque: { routes: [{ metadata: meta, rules: [{ backends: firstAvailable(backend) }] }] },
        http1: http,
        http2: http,
      },
    },
  };
}
