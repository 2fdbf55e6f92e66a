// A Service's endpoints as its EndpointSlices would list them: ready pods and ready ExternalWorkloads it selects.
import { parseIp } from '../../config/ip.js';
import { mapSelects } from '../manifests/selector.js';
import type { ServicePort } from '../manifests/types.js';
import type { Cluster, ServiceModel } from './cluster.js';
import type { EwModel, PodModel, WorkloadModel } from './workloads.js';

export interface Endpoint {
  readonly workload: WorkloadModel;
  readonly ip: string;
  readonly port: number;
}

/** A pod's port for a Service port: a number as is; a name must be one of its container ports (same protocol). */
function podTarget(pod: PodModel, target: number | string, protocol: string): number | undefined {
  if (typeof target === 'number') return target;
  return pod.spec.ports.find((p) => p.name === target && p.protocol === protocol)?.port;
}

/** An EW's port: unlike pods, even a numbered targetPort must be declared in `spec.ports`. */
function ewTarget(ew: EwModel, target: number | string, protocol: string): number | undefined {
  const found = ew.ports.find((p) => p.protocol === protocol && (typeof target === 'number' ? p.port === target : p.name === target));
  return found?.port;
}

export function servicePort(svc: ServiceModel, port: number): ServicePort | undefined {
  return svc.ports.find((p) => p.port === port && p.protocol === 'TCP') ?? svc.ports.find((p) => p.port === port);
}

/**
 * The ready endpoints behind `svc:port`, pods and EWs alike, in manifest order. For a port the
 * Service does not define, the number itself is the target (as the destination controller does).
 * `hostname` keeps only the endpoint with that hostname (headless Services).
 */
export function serviceEndpoints(c: Cluster, svc: ServiceModel, port: number, hostname?: string): Endpoint[] {
  const selector = svc.selector;
  if (selector === undefined || svc.type === 'ExternalName') return [];
  const sp = servicePort(svc, port);
  const target = sp?.targetPort ?? port;
  const protocol = sp?.protocol ?? 'TCP';
  const families = new Set(svc.families);
  const inFamily = (ip: string): boolean => families.has(parseIp(ip)?.family ?? 4);
  const found: Endpoint[] = [];
  const candidates: WorkloadModel[] = [...c.pods, ...c.ews]
    .filter((w) => w.namespace === svc.namespace && w.ready && mapSelects(selector, w.labels))
    .sort((a, b) => a.source.order - b.source.order || a.index - b.index);
  for (const w of candidates) {
    if (hostname !== undefined && hostnameOf(w, svc) !== hostname) continue;
    const p = w.kind === 'pod' ? podTarget(w, target, protocol) : ewTarget(w, target, protocol);
    if (p === undefined) continue;
    for (const ip of w.ips) if (inFamily(ip)) found.push({ workload: w, ip, port: p });
  }
  return found;
}

/** The endpoint hostname EndpointSlices carry: a pod's spec.hostname when its subdomain is the Service; an EW's name for headless Services. */
function hostnameOf(w: WorkloadModel, svc: ServiceModel): string | undefined {
  if (w.kind === 'pod') return w.spec.subdomain === svc.name ? w.spec.hostname : undefined;
  return svc.headless ? w.name : undefined;
}
