// OutboundPolicies answers: a Service port's policy, the undefined-port policy, egress-fallback, or NOT_FOUND.
import { parseIp } from '../../config/ip.js';
import { key, type Cluster, type ServiceModel } from './cluster.js';
import { servicePort } from './endpoints.js';
import { egressFallbackPolicy, servicePolicy, undefinedPortPolicy, type AppProtocol } from './outbound-wire.js';
import type { OutboundAnswer, RefusedAnswer, TrafficTarget } from './types.js';
import { parseWorkloadRef } from './workload-ref.js';

function refuse(code: RefusedAnswer['code'], message: string): OutboundAnswer {
  return { kind: 'refused', code, message };
}

/** A port's `appProtocol` decides; otherwise an opaque port (annotation or default list) is opaque; otherwise Detect. */
function appProtocolOf(c: Cluster, svc: ServiceModel | undefined, port: number): AppProtocol {
  const app = svc === undefined ? undefined : servicePort(svc, port)?.appProtocol?.toLowerCase();
  if (app === 'http') return 'http1';
  if (app === 'kubernetes.io/h2c') return 'http2';
  // linkerd.io/tcp, linkerd.io/opaque and any protocol the controller does not know are opaque.
  if (app !== undefined) return 'opaque';
  return (svc?.opaquePorts ?? c.rs.defaultOpaquePorts).has(port) ? 'opaque' : undefined;
}

function forService(c: Cluster, namespace: string, name: string, port: number): OutboundAnswer {
  const authority = `${name}.${namespace}.svc.${c.rs.settings.clusterDomain}:${port}`;
  const svc = c.serviceByKey.get(key(namespace, name));
  return { kind: 'policy', policy: servicePolicy({ namespace, name, port, authority }, appProtocolOf(c, svc, port)) };
}

/** `<name>.<namespace>.svc[.<domain>][:port]`, port 80 by default, as the policy controller reads authorities. */
function byAuthority(c: Cluster, authority: string): OutboundAnswer {
  const m = /^([^:/?#@\s]*)(?::(\d{1,5}))?$/.exec(authority);
  if (m === null) return refuse('INVALID_ARGUMENT', 'invalid authority');
  const host = (m[1] ?? '').replace(/\.+$/, '');
  if (host === '') return refuse('INVALID_ARGUMENT', 'authority must have a host');
  const port = m[2] === undefined ? 80 : Number(m[2]);
  if (port < 1 || port > 65535) return refuse('INVALID_ARGUMENT', 'invalid authority');
  const domain = c.rs.settings.clusterDomain;
  const trimmed = host.endsWith(domain) ? host.slice(0, -domain.length) : host;
  const [name, namespace, svc] = trimmed.split('.');
  if (name === undefined || name === '' || namespace === undefined || namespace === '' || svc !== 'svc') {
    return refuse('NOT_FOUND', `authority must be of the form <name>.<namespace>.svc.${domain}`);
  }
  return forService(c, namespace, name, port);
}

export function outboundPolicy(c: Cluster, target: TrafficTarget, sourceWorkload: string): OutboundAnswer {
  const source = parseWorkloadRef(sourceWorkload);
  if ('error' in source) return refuse('INVALID_ARGUMENT', source.error);
  if (target.kind === 'authority') return byAuthority(c, target.authority);
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) return refuse('INVALID_ARGUMENT', 'port outside valid range');
  const ip = parseIp(target.ip);
  if (ip === undefined) return refuse('INVALID_ARGUMENT', `failed to parse target addr: ${target.ip}`);
  const svc = c.serviceByIp.get(ip.addr);
  if (svc !== undefined) {
    if (servicePort(svc, target.port) === undefined) return { kind: 'policy', policy: undefinedPortPolicy({ namespace: svc.namespace, name: svc.name, port: target.port }) };
    return forService(c, svc.namespace, svc.name, target.port);
  }
  if (!c.rs.inCluster(ip.addr)) return { kind: 'policy', policy: egressFallbackPolicy(ip.addr, target.port) };
  return refuse('NOT_FOUND', 'No such service');
}
