// The LINKERD2_PROXY_* environment a workload's proxy needs to join the dev mesh (pods: Linkerd identity; EWs: SPIRE).
import { ProxyError } from '../core/errors.js';
import type { MeshSettings, MeshWorkload } from './model/types.js';

/** A control-plane service as the proxy reaches it: the address it dials and the identity it verifies. */
export interface ServiceEndpoint {
  readonly addr: string;
  readonly name: string;
}

export interface ProxyEnvContext {
  readonly trustAnchorPem: string;
  readonly settings: MeshSettings;
  readonly destination: ServiceEndpoint;
  readonly policy: ServiceEndpoint;
  readonly identity: ServiceEndpoint;
  /** Goes into DESTINATION_CONTEXT's `nodeName` (zone lookups; the machine's name for a VM). */
  readonly nodeName: string;
  readonly tokenFile: (ns: string, sa: string) => string;
  readonly identityDir: (ns: string, pod: string) => string;
  /** The Workload API socket serving this ExternalWorkload, if one was configured. */
  readonly workloadApiSocket: (ns: string, name: string) => string | undefined;
}

/** The port an EW names `linkerd-proxy` is its proxy's own inbound port, not an application port. */
function inboundPorts(w: MeshWorkload): string | undefined {
  const ports = [...new Set(w.ports.filter((p) => p.name !== 'linkerd-proxy').map((p) => p.port))].sort((a, b) => a - b);
  return ports.length === 0 ? undefined : ports.join(',');
}

/**
 * Everything the proxy requires plus what the injector (pods) or the mesh-expansion guide (VMs)
 * would also set: default inbound policy, cluster networks, the workload's ports watched eagerly,
 * and for pods the profile networks.
 */
export function proxyEnvFor(w: MeshWorkload, ctx: ProxyEnvContext): Record<string, string> {
  const ewKey = w.kind === 'pod' ? 'pod' : 'external_workload';
  const env: Record<string, string> = {
    LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: ctx.trustAnchorPem,
    LINKERD2_PROXY_IDENTITY_SERVER_ID: w.identity,
    LINKERD2_PROXY_IDENTITY_SERVER_NAME: w.serverName,
    LINKERD2_PROXY_DESTINATION_SVC_ADDR: ctx.destination.addr,
    LINKERD2_PROXY_DESTINATION_SVC_NAME: ctx.destination.name,
    LINKERD2_PROXY_POLICY_SVC_ADDR: ctx.policy.addr,
    LINKERD2_PROXY_POLICY_SVC_NAME: ctx.policy.name,
    LINKERD2_PROXY_POLICY_WORKLOAD: JSON.stringify({ ns: w.namespace, [ewKey]: w.name }),
    LINKERD2_PROXY_DESTINATION_CONTEXT: JSON.stringify({ ns: w.namespace, nodeName: ctx.nodeName, [ewKey]: w.name }),
    LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: ctx.settings.defaultInboundPolicy,
    LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: ctx.settings.clusterNetworks.join(','),
  };
  const ports = inboundPorts(w);
  if (ports !== undefined) env.LINKERD2_PROXY_INBOUND_PORTS = ports;
  if (w.kind === 'pod') {
    const sa = w.serviceAccount ?? 'default';
    env.LINKERD2_PROXY_IDENTITY_DIR = ctx.identityDir(w.namespace, w.name);
    env.LINKERD2_PROXY_IDENTITY_TOKEN_FILE = ctx.tokenFile(w.namespace, sa);
    env.LINKERD2_PROXY_IDENTITY_SVC_ADDR = ctx.identity.addr;
    env.LINKERD2_PROXY_IDENTITY_SVC_NAME = ctx.identity.name;
    env.LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS = ctx.settings.clusterNetworks.join(',');
    return env;
  }
  const socket = ctx.workloadApiSocket(w.namespace, w.name);
  if (socket === undefined) {
    throw new ProxyError(
      `no SPIFFE Workload API serves ExternalWorkload ${w.namespace}/${w.name}; add one (--workload-api SOCKET=${w.namespace}/${w.name})`,
      'devmesh_no_workload_api',
    );
  }
  env.LINKERD2_PROXY_IDENTITY_SPIRE_WORKLOAD_API_ADDRESS = `unix://${socket}`;
  return env;
}

/** `export NAME='value'` lines a shell can source (values may span lines, e.g. the trust anchor PEM). */
export function shellExports(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'\n`)
    .join('');
}
