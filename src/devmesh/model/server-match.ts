// Which Server resources select a workload's port: the policy controller's pick and the destination controller's opaque check.
import { selectorMatches } from '../manifests/selector.js';
import type { ServerResource } from '../manifests/types.js';
import type { Cluster } from './cluster.js';
import type { WorkloadModel } from './workloads.js';

/** The Server selects this workload (same namespace, matching kind and labels) and this port (number, or a TCP port name). */
export function serverSelects(server: ServerResource, w: WorkloadModel, port: number): boolean {
  if (server.meta.namespace !== w.namespace) return false;
  if (server.selects !== (w.kind === 'pod' ? 'pod' : 'external-workload')) return false;
  if (!selectorMatches(server.selector, w.labels)) return false;
  if (typeof server.port === 'number') return server.port === port;
  return w.portNames.get(server.port)?.includes(port) ?? false;
}

/** The oldest Server selecting the port; later ones conflict and are ignored, as upstream. */
export function selectingServer(c: Cluster, w: WorkloadModel, port: number): ServerResource | undefined {
  return c.servers.find((s) => serverSelects(s, w, port));
}

/** The destination controller marks a port opaque when any Server selecting it says `proxyProtocol: opaque`. */
export function opaqueByServer(c: Cluster, w: WorkloadModel, port: number): boolean {
  return c.servers.some((s) => s.proxyProtocol === 'opaque' && serverSelects(s, w, port));
}
