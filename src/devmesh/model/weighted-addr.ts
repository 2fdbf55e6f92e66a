// One endpoint as the destination controller describes it (WeightedAddr): identity, protocol hints, labels.
import { CONTROL_PLANE_NS_LABEL } from '../manifests/annotations.js';
import type { Cluster } from './cluster.js';
import { opaqueByServer } from './server-match.js';
import type { Wire } from './types.js';
import { duration, tcpAddress } from './wire.js';
import { PROXY_INBOUND_PORT, type EwModel, type PodModel, type WorkloadModel } from './workloads.js';

export const DEFAULT_WEIGHT = 10_000;

/** The meshed HTTP/2 client parameters of a stock install (keep-alive every 10s, 3s timeout, also when idle). */
export const MESHED_HTTP2: Wire = Object.freeze({ keepAlive: { interval: duration(10_000), timeout: duration(3_000), whileIdle: true } });

/** The proxy container's own ports (inbound and admin): never reached through opaque transport. */
const PROXY_META_PORTS: ReadonlySet<number> = new Set([PROXY_INBOUND_PORT, 4191]);

/** `Get` lower-cases an EW owner's kind and adds `zone_locality`; `GetProfile` adds `namespace` instead. */
export type AddrView = 'get' | 'profile';

/** Whether the endpoint's port is opaque: annotation/default list, or a Server saying so. */
export function isOpaquePort(c: Cluster, w: WorkloadModel, port: number): boolean {
  return w.opaquePorts.has(port) || opaqueByServer(c, w, port);
}

function finishLabels(labels: Record<string, string>, w: WorkloadModel, view: AddrView): Record<string, string> {
  if (view === 'get') labels.zone_locality = 'unknown';
  else labels.namespace = w.namespace;
  return labels;
}

/** With `directEndpoints`, an HTTP endpoint is reached through its proxy's inbound port too (the header names `port`). */
function direct(c: Cluster, proxyPort: number, port: number): Wire {
  return c.rs.settings.directEndpoints === true && port !== proxyPort ? { opaqueTransport: { inboundPort: proxyPort } } : {};
}

function ewAddr(c: Cluster, ew: EwModel, ip: string, port: number, view: AddrView): Wire {
  const labels: Record<string, string> = { external_workload: ew.name };
  if (ew.owner !== undefined) labels[view === 'get' ? ew.owner.kind.toLowerCase() : ew.owner.kind] = ew.owner.name;
  labels.zone = ew.zone;
  const opaque = isOpaquePort(c, ew, port);
  return {
    addr: tcpAddress(ip, port),
    weight: DEFAULT_WEIGHT,
    metricLabels: finishLabels(labels, ew, view),
    // The controller assumes SPIFFE for external workloads: always a URI identity.
    tlsIdentity: { uriLikeIdentity: { uri: ew.identity }, serverName: { name: ew.serverName } },
    // H2 is hinted unconditionally for EWs (not gated by the upgrade flag as for pods).
    protocolHint: opaque ? { opaque: {}, opaqueTransport: { inboundPort: ew.proxyPort } } : { h2: {}, ...direct(c, ew.proxyPort, port) },
    http2: MESHED_HTTP2,
  };
}

function podAddr(c: Cluster, pod: PodModel, ip: string, port: number, view: AddrView): Wire {
  const s = c.rs.settings;
  const labels: Record<string, string> = { pod: pod.name, [pod.owner.kind]: pod.owner.name, serviceaccount: pod.spec.serviceAccount };
  const cpNs = pod.labels[CONTROL_PLANE_NS_LABEL] ?? '';
  if (cpNs !== '') labels.control_plane_ns = cpNs;
  const hash = pod.labels['pod-template-hash'];
  if (hash !== undefined && hash !== '') labels.pod_template_hash = hash;
  labels.zone = pod.zone;
  const w: Wire = { addr: tcpAddress(ip, port), weight: DEFAULT_WEIGHT, metricLabels: finishLabels(labels, pod, view) };
  const skipped = pod.skipInboundPorts.has(port);
  if (cpNs !== '' && !skipped) {
    const opaque = isOpaquePort(c, pod, port);
    // This control plane acts with H2 upgrade enabled (the Helm default).
    const hint: Wire = opaque ? { opaque: {} } : { h2: {} };
    if ((opaque || c.rs.settings.directEndpoints === true) && !PROXY_META_PORTS.has(port)) hint.opaqueTransport = { inboundPort: PROXY_INBOUND_PORT };
    w.protocolHint = hint;
    w.http2 = MESHED_HTTP2;
  }
  if (s.identityTrustDomain !== '' && cpNs === s.controlPlaneNamespace && !skipped) {
    const name = `${pod.spec.serviceAccount}.${pod.namespace}.serviceaccount.identity.${cpNs}.${s.identityTrustDomain}`;
    w.tlsIdentity = { dnsLikeIdentity: { name }, serverName: { name } };
  }
  return w;
}

/** The WeightedAddr of `w` at `ip:port`. */
export function workloadAddr(c: Cluster, w: WorkloadModel, ip: string, port: number, view: AddrView): Wire {
  return w.kind === 'pod' ? podAddr(c, w, ip, port, view) : ewAddr(c, w, ip, port, view);
}

/** An address nothing in the mesh owns: no identity, no hint, no labels. */
export function bareAddr(ip: string, port: number): Wire {
  return { addr: tcpAddress(ip, port), weight: DEFAULT_WEIGHT };
}
