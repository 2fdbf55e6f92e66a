// `inbound_tcp_authz_terminate_total`: forwarded connections reset because a policy update no longer admits them.
import type { Metrics, TlsAccept } from '../../metrics/index.js';
import { LegacyCounterFamily, serverLabels, targetAddrLabels, tlsAcceptLabels } from '../../metrics/index.js';
import type { Meta } from '../../policy/inbound/index.js';
import type { SocketAddr } from '../../transport/index.js';

/** Labelled like `inbound_tcp_authz_deny_total`: target_*, srv_* (the policy that denied), TLS accept. */
export class TcpTerminateMetrics {
  private readonly terminate: LegacyCounterFamily;

  constructor(metrics: Metrics) {
    this.terminate = new LegacyCounterFamily({
      name: 'inbound_tcp_authz_terminate_total',
      help: 'The total number of inbound TCP connections that were terminated due to an authorization change',
      retainIdleMs: metrics.retainIdleMs,
    });
    metrics.legacy.register(this.terminate);
  }

  terminated(target: SocketAddr, server: Meta, tls: TlsAccept): void {
    this.terminate.get({ ...targetAddrLabels({ ip: target.host, port: target.port }), ...serverLabels(server, target.port), ...tlsAcceptLabels(tls) }).inc();
  }
}
