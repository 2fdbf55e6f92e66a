// InboundServerPolicies answers: the Server selecting a workload's port, or the workload's default server.
import type { ProxyProtocolName, ServerResource } from '../manifests/types.js';
import { authenticatedVariant, authzWire, defaultPolicyAuthz, type ResolvedPolicy } from './authz.js';
import { key, type Cluster } from './cluster.js';
import { selectingServer } from './server-match.js';
import type { InboundAnswer, RefusedAnswer, Wire } from './types.js';
import { DETECT_TIMEOUT_MS, defaultMeta, duration, ipNetwork } from './wire.js';
import { parseWorkloadRef } from './workload-ref.js';
import type { WorkloadModel } from './workloads.js';
import { parseCidr } from '../manifests/authorization.js';
import type { IpNetwork } from '../../config/types.js';

/** Helm `policyController.probeNetworks`: where kubelet probes may come from. */
const PROBE_NETWORKS: readonly IpNetwork[] = ['0.0.0.0/0', '::/0'].map((n) => parseCidr(n) as IpNetwork);

function refuse(code: RefusedAnswer['code'], message: string): RefusedAnswer {
  return { kind: 'refused', code, message };
}

/** The match-all route every server carries when no HTTPRoute is attached, plus a probe route for a pod's HTTP probes on this port. */
function httpRoutes(w: WorkloadModel, port: number): Wire[] {
  const routes: Wire[] = [{ metadata: defaultMeta('default'), rules: [{ matches: [{ path: { prefix: '/' } }] }] }];
  const paths = w.kind === 'pod' ? [...new Set(w.spec.probes.filter((p) => p.port === port).map((p) => p.path))].sort() : [];
  if (paths.length === 0) return routes;
  routes.push({
    metadata: defaultMeta('probe'),
    rules: [{ matches: paths.map((p) => ({ path: { exact: p }, method: { registered: 'GET' } })) }],
    authorizations: [
      {
        networks: PROBE_NETWORKS.map((n) => ({ net: ipNetwork(n) })),
        authentication: { unauthenticated: {} },
        labels: { group: '', kind: 'default', name: 'probe' },
        metadata: defaultMeta('probe'),
      },
    ],
  });
  return routes;
}

const GRPC_ROUTES: readonly Wire[] = [{ metadata: defaultMeta('default'), rules: [{ matches: [{ rpc: {} }] }] }];

function protocolWire(p: ProxyProtocolName, w: WorkloadModel, port: number): Wire {
  switch (p) {
    case 'unknown':
      return { detect: { timeout: duration(DETECT_TIMEOUT_MS), httpRoutes: httpRoutes(w, port) } };
    case 'HTTP/1':
      return { http1: { routes: httpRoutes(w, port) } };
    case 'HTTP/2':
      return { http2: { routes: httpRoutes(w, port) } };
    case 'gRPC':
      return { grpc: { routes: GRPC_ROUTES } };
    case 'opaque':
      return { opaque: {} };
    case 'TLS':
      return { tls: {} };
  }
}

function serverWire(c: Cluster, policies: readonly ResolvedPolicy[], server: ServerResource, w: WorkloadModel, port: number): Wire {
  const authorizations: Wire[] = [];
  for (const p of policies) {
    const t = p.resource.target;
    if (p.resource.meta.namespace !== server.meta.namespace) continue;
    if (t.kind === 'Server' && t.name !== server.meta.name) continue;
    authorizations.push(authzWire({ kind: 'authorizationpolicy', name: p.resource.meta.name }, p.authz, c.rs));
  }
  if (server.accessPolicy !== undefined) {
    const a = defaultPolicyAuthz(c.rs, server.accessPolicy);
    if (a !== undefined) authorizations.push(authzWire({ kind: 'default', name: server.accessPolicy }, a, c.rs));
  }
  return {
    protocol: protocolWire(server.proxyProtocol, w, port),
    authorizations,
    labels: { group: 'policy.linkerd.io', kind: 'server', name: server.meta.name },
  };
}

/** What a port no Server selects gets: the workload's (or the cluster's) default policy. */
function defaultServerWire(c: Cluster, w: WorkloadModel, port: number): Wire {
  let policy = w.defaultPolicy ?? c.rs.defaultPolicy;
  if (w.requireIdentityPorts.has(port)) policy = authenticatedVariant(policy);
  const a = defaultPolicyAuthz(c.rs, policy);
  return {
    protocol: w.inboundOpaquePorts.has(port) ? { opaque: {} } : protocolWire('unknown', w, port),
    authorizations: a === undefined ? [] : [authzWire({ kind: 'default', name: policy }, a, c.rs)],
    labels: { group: '', kind: 'default', name: policy },
  };
}

export function inboundServer(c: Cluster, policies: readonly ResolvedPolicy[], workload: string, port: number): InboundAnswer {
  const ref = parseWorkloadRef(workload);
  if ('error' in ref) return refuse('INVALID_ARGUMENT', ref.error);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return refuse('INVALID_ARGUMENT', `Invalid port: ${port}`);
  const k = key(ref.namespace, ref.name);
  const w = ref.kind === 'pod' ? c.podByKey.get(k) : c.ewByKey.get(k);
  if (w === undefined) return refuse('NOT_FOUND', 'unknown server');
  const server = selectingServer(c, w, port);
  return { kind: 'server', server: server === undefined ? defaultServerWire(c, w, port) : serverWire(c, policies, server, w, port) };
}
