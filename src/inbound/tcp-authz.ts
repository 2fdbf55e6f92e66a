// Inbound TCP authorization: the port's server policy decides whether a forwarded connection may proceed.
import type { InboundConfig } from '../config/types.js';
import { portSetHas } from '../config/index.js';
import type { Metrics, TlsAccept } from '../metrics/index.js';
import { LegacyCounterFamily, authzLabels, serverLabels, targetAddrLabels, tlsAcceptLabels } from '../metrics/index.js';
import { compileServerPolicy, defaultPolicyForPort, type ClientTls, type CompiledServerPolicy, type Meta } from '../policy/inbound/index.js';
import type { SocketAddr } from '../transport/index.js';

/**
 * The policy of each port until policy discovery lands: the configured default policy, or its
 * opaque variant on INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION ports. Compiled once.
 */
export function defaultPortPolicies(inbound: InboundConfig): (port: number) => CompiledServerPolicy {
  const opts = { detectTimeoutMs: inbound.detectTimeoutMs, clusterNetworks: inbound.policy.clusterNetworks };
  const detect = compileServerPolicy(defaultPolicyForPort(inbound.policy.defaultPolicy, { ...opts, opaque: false }));
  const opaque = compileServerPolicy(defaultPolicyForPort(inbound.policy.defaultPolicy, { ...opts, opaque: true }));
  return (port) => (portSetHas(inbound.policy.opaquePorts, port) ? opaque : detect);
}

/** The TLS state authorization sees, from the accept-side TLS status. */
export function clientTlsOf(status: TlsAccept): ClientTls {
  switch (status.kind) {
    case 'established':
      return { kind: 'terminated', clientId: status.clientId };
    case 'passthru':
      return { kind: 'passthrough' };
    case 'none':
    case 'disabled':
      return { kind: 'none' };
  }
}

/** `inbound_tcp_authz_allow_total` / `inbound_tcp_authz_deny_total` with the Rust proxy's labels. */
export class TcpAuthzMetrics {
  private readonly allow: LegacyCounterFamily;
  private readonly deny: LegacyCounterFamily;

  constructor(metrics: Metrics) {
    this.allow = new LegacyCounterFamily({ name: 'inbound_tcp_authz_allow_total', help: 'The total number of inbound TCP connections that were authorized', retainIdleMs: metrics.retainIdleMs });
    this.deny = new LegacyCounterFamily({ name: 'inbound_tcp_authz_deny_total', help: 'The total number of inbound TCP connections that were denied', retainIdleMs: metrics.retainIdleMs });
    metrics.legacy.register(this.allow);
    metrics.legacy.register(this.deny);
  }

  allowed(target: SocketAddr, server: Meta, authz: Meta, tls: TlsAccept): void {
    this.allow.get({ ...targetAddrLabels({ ip: target.host, port: target.port }), ...serverLabels(server, target.port), ...authzLabels(authz), ...tlsAcceptLabels(tls) }).inc();
  }

  denied(target: SocketAddr, server: Meta, tls: TlsAccept): void {
    this.deny.get({ ...targetAddrLabels({ ip: target.host, port: target.port }), ...serverLabels(server, target.port), ...tlsAcceptLabels(tls) }).inc();
  }
}
