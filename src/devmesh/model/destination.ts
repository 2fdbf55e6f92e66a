// Destination.Get and GetProfile answers, with the destination controller's lookups and refusals.
import { parseIp } from '../../config/ip.js';
import { key, type Cluster, type ServiceModel } from './cluster.js';
import { serviceEndpoints, servicePort } from './endpoints.js';
import type { DestinationAnswer, ProfileAnswer, RefusedAnswer, Wire } from './types.js';
import { bareAddr, isOpaquePort, workloadAddr } from './weighted-addr.js';
import { duration, resourceMeta, splitHostPort } from './wire.js';
import type { WorkloadModel } from './workloads.js';

function refuse(code: RefusedAnswer['code'], message: string): RefusedAnswer {
  return { kind: 'refused', code, message };
}

/** `<svc>.<ns>.svc.<domain>` or `<hostname>.<svc>.<ns>.svc.<domain>` (one trailing dot tolerated). */
export function parseServiceName(host: string, clusterDomain: string): { name: string; namespace: string; hostname?: string } | undefined {
  const labels = host.replace(/\.$/, '').split('.');
  const suffix = ['svc', ...clusterDomain.split('.')];
  const head = labels.length - suffix.length;
  if (head < 2 || labels.slice(head).join('.') !== suffix.join('.')) return undefined;
  if (labels.slice(0, head).some((l) => l === '')) return undefined;
  if (head === 2) return { name: labels[0] ?? '', namespace: labels[1] ?? '' };
  if (head === 3) return { hostname: labels[0] ?? '', name: labels[1] ?? '', namespace: labels[2] ?? '' };
  return undefined;
}

export function destinationGet(c: Cluster, path: string): DestinationAnswer {
  const hp = splitHostPort(path);
  if (hp === undefined) return refuse('INVALID_ARGUMENT', `Invalid authority: ${path}`);
  if (parseIp(hp.host) !== undefined) return refuse('INVALID_ARGUMENT', `IP queries not supported by Get API: host=${hp.host}`);
  const id = parseServiceName(hp.host, c.rs.settings.clusterDomain);
  if (id === undefined) return refuse('INVALID_ARGUMENT', `Invalid authority: ${path}`);
  const svc = c.serviceByKey.get(key(id.namespace, id.name));
  if (svc === undefined) return refuse('NOT_FOUND', `Service ${id.name}.${id.namespace} not found`);
  const endpoints = serviceEndpoints(c, svc, hp.port, id.hostname).map((e) => workloadAddr(c, e.workload, e.ip, e.port, 'get'));
  return { kind: 'endpoints', setLabels: { namespace: svc.namespace, service: svc.name }, endpoints };
}

/** The controller's default retry budget: 20% extra, at least 10 retries a second, over 10s. */
export const DEFAULT_RETRY_BUDGET: Wire = Object.freeze({ retryRatio: 0.2, minRetriesPerSecond: 10, ttl: duration(10_000) });

function serviceProfile(c: Cluster, svc: ServiceModel, port: number): ProfileAnswer {
  // A port the Service lacks gets an empty profile: the proxy then relies on the policy API.
  if (servicePort(svc, port) === undefined) return { kind: 'profile', profile: {} };
  return {
    kind: 'profile',
    profile: {
      retryBudget: DEFAULT_RETRY_BUDGET,
      opaqueProtocol: svc.opaquePorts.has(port),
      fullyQualifiedName: `${svc.name}.${svc.namespace}.svc.${c.rs.settings.clusterDomain}`,
      parentRef: resourceMeta({ group: 'core', kind: 'Service', name: svc.name, namespace: svc.namespace, port }),
      // With no ServiceProfile the controller translates an empty one, whose reference has only its group.
      profileRef: { resource: { group: 'linkerd.io' } },
    },
  };
}

function endpointProfile(c: Cluster, w: WorkloadModel, ip: string, port: number): ProfileAnswer {
  return {
    kind: 'profile',
    profile: { retryBudget: DEFAULT_RETRY_BUDGET, endpoint: workloadAddr(c, w, ip, port, 'profile'), opaqueProtocol: isOpaquePort(c, w, port) },
  };
}

function profileByIp(c: Cluster, ip: string, port: number): ProfileAnswer {
  const svc = c.serviceByIp.get(ip);
  if (svc !== undefined) return serviceProfile(c, svc, port);
  const pod = c.podByIp.get(ip);
  if (pod !== undefined) return endpointProfile(c, pod, ip, port);
  // An EW answers for its IP only on a port it declares.
  const ew = c.ewsByIp.get(ip)?.find((e) => e.ports.some((p) => p.port === port));
  if (ew !== undefined) return endpointProfile(c, ew, ip, port);
  return {
    kind: 'profile',
    profile: { retryBudget: DEFAULT_RETRY_BUDGET, endpoint: bareAddr(ip, port), opaqueProtocol: c.rs.defaultOpaquePorts.has(port) },
  };
}

export function destinationProfile(c: Cluster, path: string): ProfileAnswer {
  const hp = splitHostPort(path);
  if (hp === undefined) return refuse('INVALID_ARGUMENT', `invalid authority: ${JSON.stringify(path)}`);
  const ip = parseIp(hp.host);
  if (ip !== undefined) return profileByIp(c, ip.addr, hp.port);
  const id = parseServiceName(hp.host, c.rs.settings.clusterDomain);
  if (id === undefined) return refuse('INVALID_ARGUMENT', `invalid service ${JSON.stringify(hp.host)}`);
  const svc = c.serviceByKey.get(key(id.namespace, id.name));
  if (svc === undefined) return refuse('NOT_FOUND', `Service ${id.name}.${id.namespace} not found`);
  if (id.hostname === undefined) return serviceProfile(c, svc, hp.port);
  const ep = serviceEndpoints(c, svc, hp.port, id.hostname)[0];
  if (ep === undefined) return refuse('NOT_FOUND', `no endpoint ${id.hostname} in Service ${id.name}.${id.namespace}`);
  return endpointProfile(c, ep.workload, ep.ip, ep.port);
}
