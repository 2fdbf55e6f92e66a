// Metrics of the direct (transport-header) path: the per-header connection counter, authz counters and accept handles.
import { Counter } from 'prom-client';
import { BoundedCache } from '../../core/bounded-cache.js';
import { formatAddr, type SocketAddr } from '../../transport/index.js';
import type { Metrics, TcpLabelsHandle, TlsAccept } from '../../metrics/index.js';
import { inboundAcceptLabels } from '../../metrics/index.js';
import type { Meta } from '../../policy/inbound/index.js';
import type { TransportHeader } from '../../transport/transport-header.js';
import { TcpTerminateMetrics } from '../policy/index.js';
import { TcpAuthzMetrics } from '../tcp-authz.js';

export const TRANSPORT_HEADER_CONNECTIONS = 'inbound_tcp_transport_header_connections_total';

type HeaderLabel = 'session_protocol' | 'target_port' | 'target_name' | 'client_id';

const HANDLE_CACHE_LIMIT = 10_000;

/**
 * One per Metrics bundle (see `directMetricsFor`): prom-client refuses a family registered
 * twice, and legacy families rendered twice would repeat their HELP lines.
 */
export class DirectMetrics {
  private readonly connections: Counter<HeaderLabel>;
  private readonly handles = new BoundedCache<string, TcpLabelsHandle>(HANDLE_CACHE_LIMIT);
  private ownAuthz: TcpAuthzMetrics | undefined;
  private ownTerminate: TcpTerminateMetrics | undefined;

  constructor(private readonly metrics: Metrics) {
    const existing: unknown = metrics.registry.getSingleMetric(TRANSPORT_HEADER_CONNECTIONS);
    this.connections = existing instanceof Counter
      ? (existing as Counter<HeaderLabel>)
      : new Counter({
          name: TRANSPORT_HEADER_CONNECTIONS,
          help: 'TCP connections with transport headers',
          labelNames: ['session_protocol', 'target_port', 'target_name', 'client_id'] as const,
          registers: [metrics.registry],
        });
  }

  /**
   * Counts a decoded header, with upstream's labels: `session_protocol` ("http/1", "http/2",
   * or "" for opaque), `target_port` (the header's port), `target_name` (the gateway name, ""
   * when none) and `client_id` (the peer's mTLS identity).
   */
  headerReceived(header: TransportHeader, clientId: string): void {
    this.connections.inc({
      session_protocol: header.sessionProtocol === 'http1' ? 'http/1' : header.sessionProtocol === 'http2' ? 'http/2' : '',
      target_port: String(header.port),
      target_name: header.name ?? '',
      client_id: clientId,
    });
  }

  /** The authz counters to use when the caller shares none (created on first use). */
  defaultAuthz(): TcpAuthzMetrics {
    this.ownAuthz ??= new TcpAuthzMetrics(this.metrics);
    return this.ownAuthz;
  }

  /** Likewise for `inbound_tcp_authz_terminate_total`. */
  defaultTerminate(): TcpTerminateMetrics {
    this.ownTerminate ??= new TcpTerminateMetrics(this.metrics);
    return this.ownTerminate;
  }

  /** Transport (tcp_*) labels of a direct connection once its header named the target. */
  acceptHandle(target: SocketAddr, tls: TlsAccept, server: Meta): TcpLabelsHandle {
    const clientId = tls.kind === 'established' ? (tls.clientId ?? '') : tls.kind;
    return this.handles.get(`${formatAddr(target)}|${clientId}|${server.kind}/${server.name}`, () =>
      this.metrics.tcp.bind(inboundAcceptLabels({ ip: target.host, port: target.port }, tls, server)),
    );
  }
}

const byBundle = new WeakMap<Metrics, DirectMetrics>();

export function directMetricsFor(metrics: Metrics): DirectMetrics {
  let m = byBundle.get(metrics);
  if (m === undefined) {
    m = new DirectMetrics(metrics);
    byBundle.set(metrics, m);
  }
  return m;
}
