// Outbound connect transport metrics: one tcp_* handle per (endpoint, TLS status, authority), bound once.
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import { outboundConnectLabels, type Metrics, type TcpLabelsHandle, type TlsConnect } from '../../metrics/index.js';

export interface ConnectMetrics {
  /**
   * The handle counting connections to `endpoint`: `direction="outbound",peer="dst"`,
   * `authority` (a balanced backend's service name; absent for forwards), the endpoint's
   * target address, TLS-connect labels and its discovery labels as `dst_*`.
   */
  handle(endpoint: DestinationEndpoint, tls: TlsConnect, authority: string | undefined): TcpLabelsHandle;
}

const byMetrics = new WeakMap<Metrics, ConnectMetrics>();

/** The cache for one metrics bundle, shared by every caller (opaque and HTTP stacks alike). */
export function connectMetricsFor(metrics: Metrics): ConnectMetrics {
  let cm = byMetrics.get(metrics);
  if (cm === undefined) {
    cm = createConnectMetrics(metrics);
    byMetrics.set(metrics, cm);
  }
  return cm;
}

/**
 * Keyed on the endpoint value itself (discovery reuses it for as long as it is unchanged), so
 * neither labels nor keys are built per connection once bound; handles go when the endpoint does.
 */
export function createConnectMetrics(metrics: Metrics): ConnectMetrics {
  const byEndpoint = new WeakMap<DestinationEndpoint, Map<string, TcpLabelsHandle>>();
  return {
    handle(endpoint, tls, authority) {
      let handles = byEndpoint.get(endpoint);
      if (handles === undefined) {
        handles = new Map();
        byEndpoint.set(endpoint, handles);
      }
      const key = `${tlsKey(tls)}|${authority ?? ''}`;
      let h = handles.get(key);
      if (h === undefined) {
        h = metrics.tcp.bind(
          outboundConnectLabels({ ip: endpoint.addr.host, port: endpoint.addr.port }, tls, { authority, dstLabels: endpoint.metricLabels }),
        );
        handles.set(key, h);
      }
      return h;
    },
  };
}

function tlsKey(tls: TlsConnect): string {
  switch (tls.kind) {
    case 'established':
      return `id:${tls.serverId}`;
    case 'none':
      return tls.reason;
    case 'disabled':
      return 'disabled';
  }
}
