// Assembles the loaded resources into one indexed cluster: addresses claimed or assigned, Deployments expanded into pods.
import { parseIp } from '../../config/ip.js';
import { OPAQUE_PORTS_ANNOTATION, parsePortList } from '../manifests/annotations.js';
import type {
  AuthorizationPolicyResource,
  DeploymentResource,
  ManifestResource,
  ManifestSet,
  MeshTLSAuthenticationResource,
  NetworkAuthenticationResource,
  PodResource,
  ResourceSource,
  ServerResource,
  ServicePort,
  ServiceResource,
} from '../manifests/types.js';
import { IpPool, POD_POOL, SERVICE_POOL, replicaSuffix, templateHash } from './ip-pool.js';
import type { ResolvedSettings } from './settings.js';
import type { ManifestProblem } from './types.js';
import { ewModel, podModel, type EwModel, type PodModel } from './workloads.js';

export interface ServiceModel {
  readonly namespace: string;
  readonly name: string;
  readonly type: ServiceResource['type'];
  readonly headless: boolean;
  /** Empty for headless and ExternalName Services. */
  readonly clusterIPs: readonly string[];
  /** Address families of its endpoints. */
  readonly families: readonly (4 | 6)[];
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePort[];
  readonly annotations: Readonly<Record<string, string>>;
  /** The opaque-ports annotation (port numbers or Service port names), else the default opaque ports. */
  readonly opaquePorts: ReadonlySet<number>;
  readonly source: ResourceSource;
}

export interface Cluster {
  readonly rs: ResolvedSettings;
  readonly namespaceAnnotations: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly pods: readonly PodModel[];
  readonly ews: readonly EwModel[];
  readonly services: readonly ServiceModel[];
  /** Oldest first: by creationTimestamp, resources without one counting as applied now, in load order. */
  readonly servers: readonly ServerResource[];
  readonly authorizationPolicies: readonly AuthorizationPolicyResource[];
  /** Keyed `namespace/name`. */
  readonly meshTlsAuthentications: ReadonlyMap<string, MeshTLSAuthenticationResource>;
  readonly networkAuthentications: ReadonlyMap<string, NetworkAuthenticationResource>;
  readonly serviceByKey: ReadonlyMap<string, ServiceModel>;
  readonly serviceByIp: ReadonlyMap<string, ServiceModel>;
  readonly podByKey: ReadonlyMap<string, PodModel>;
  readonly podByIp: ReadonlyMap<string, PodModel>;
  readonly ewByKey: ReadonlyMap<string, EwModel>;
  /** Every EW holding the IP (several may share one with different ports). */
  readonly ewsByIp: ReadonlyMap<string, readonly EwModel[]>;
  readonly problems: readonly ManifestProblem[];
}

export function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function label(r: ManifestResource): string {
  return `${r.kind} ${key(r.meta.namespace, r.meta.name)} (${r.source.file})`;
}

/** Explicit addresses of a resource and the field they come from. */
function explicitIps(r: ManifestResource): { ips: readonly string[]; field: string } | undefined {
  switch (r.kind) {
    case 'Service':
      return r.clusterIP === undefined || r.clusterIP === 'None' ? undefined : { ips: [r.clusterIP], field: 'spec.clusterIP' };
    case 'Pod':
    case 'Deployment':
      return { ips: r.ips, field: 'metadata.annotations["devmesh.l5d.io/ips"]' };
    case 'ExternalWorkload':
      return { ips: r.ips, field: 'spec.workloadIPs' };
    case 'Server':
    case 'AuthorizationPolicy':
    case 'MeshTLSAuthentication':
    case 'NetworkAuthentication':
    case 'Namespace':
    case 'ServiceAccount':
      return undefined;
  }
}

/** Drops (with an error) every resource claiming an address an earlier one holds; returns the claimed set. */
function claimAddresses(resources: readonly ManifestResource[], problems: ManifestProblem[]): { kept: ManifestResource[]; taken: Set<string> } {
  const owner = new Map<string, ManifestResource>();
  const kept: ManifestResource[] = [];
  for (const r of resources) {
    const claim = explicitIps(r);
    // External workloads may share an address when they declare different ports, as on one VM.
    const clash = claim?.ips.map((ip) => ({ ip, prior: owner.get(ip) })).find((c) => c.prior !== undefined && !(c.prior.kind === 'ExternalWorkload' && r.kind === 'ExternalWorkload'));
    if (claim !== undefined && clash?.prior !== undefined) {
      problems.push({
        severity: 'error',
        file: r.source.file,
        resource: `${r.kind} ${key(r.meta.namespace, r.meta.name)}`,
        field: claim.field,
        message: `address ${clash.ip} is already used by ${label(clash.prior)}; this resource is skipped`,
      });
      continue;
    }
    for (const ip of claim?.ips ?? []) if (!owner.has(ip)) owner.set(ip, r);
    kept.push(r);
  }
  return { kept, taken: new Set(owner.keys()) };
}

function serviceModel(r: ServiceResource, pool: IpPool, rs: ResolvedSettings): ServiceModel {
  const headless = r.clusterIP === 'None';
  const clusterIPs = headless || r.type === 'ExternalName' ? [] : [r.clusterIP ?? pool.assign(`service/${key(r.meta.namespace, r.meta.name)}`)];
  const names = new Map(r.ports.flatMap((p) => (p.name === undefined ? [] : [[p.name, [p.port]] as const])));
  const ann = r.meta.annotations[OPAQUE_PORTS_ANNOTATION];
  const parsed = ann === undefined ? undefined : parsePortList(ann, names);
  const firstFamily = clusterIPs[0] === undefined ? undefined : parseIp(clusterIPs[0])?.family;
  return Object.freeze({
    namespace: r.meta.namespace,
    name: r.meta.name,
    type: r.type,
    headless,
    clusterIPs: Object.freeze(clusterIPs),
    families: r.ipFamilies ?? Object.freeze([firstFamily ?? 4]),
    selector: r.selector,
    ports: r.ports,
    annotations: r.meta.annotations,
    opaquePorts: parsed === undefined ? rs.defaultOpaquePorts : 'error' in parsed ? new Set<number>() : parsed.ports,
    source: r.source,
  });
}

function deploymentPods(d: DeploymentResource, pool: IpPool, nsAnn: Readonly<Record<string, string>>, rs: ResolvedSettings): PodModel[] {
  const hash = templateHash(d.meta.namespace, d.meta.name);
  const pods: PodModel[] = [];
  for (let i = 0; i < d.replicas; i++) {
    const name = `${d.meta.name}-${hash}-${replicaSuffix(hash, i)}`;
    const ip = d.ips[i] ?? pool.assign(`pod/${key(d.meta.namespace, name)}`);
    const input = {
      namespace: d.meta.namespace,
      name,
      labels: d.template.labels,
      annotations: d.template.annotations,
      spec: d.template.spec,
      ips: Object.freeze([ip]),
      ready: true,
      owner: { kind: 'deployment', name: d.meta.name },
      podTemplateHash: hash,
      source: d.source,
      index: i,
    };
    pods.push(podModel(input, nsAnn, rs));
  }
  return pods;
}

function bareKindPod(p: PodResource, pool: IpPool, nsAnn: Readonly<Record<string, string>>, rs: ResolvedSettings): PodModel {
  const ips = p.ips.length > 0 ? p.ips : [pool.assign(`pod/${key(p.meta.namespace, p.meta.name)}`)];
  // A pod with one owner reference is labelled by that owner, as the destination controller does.
  const only = p.meta.ownerReferences.length === 1 ? p.meta.ownerReferences[0] : undefined;
  const owner = only === undefined ? { kind: 'pod', name: p.meta.name } : { kind: only.kind.toLowerCase(), name: only.name };
  const input = { namespace: p.meta.namespace, name: p.meta.name, labels: p.meta.labels, annotations: p.meta.annotations, spec: p.spec, ips: Object.freeze(ips), ready: p.ready, owner, source: p.source, index: 0 };
  return podModel(input, nsAnn, rs);
}

function createdAt(r: ServerResource): number {
  return r.meta.creationTimestamp ?? Number.POSITIVE_INFINITY;
}

export function buildCluster(set: ManifestSet, rs: ResolvedSettings): Cluster {
  const problems: ManifestProblem[] = [...set.problems];
  const { kept, taken } = claimAddresses(set.resources, problems);
  const podPool = new IpPool(POD_POOL, taken);
  const servicePool = new IpPool(SERVICE_POOL, taken);
  const namespaceAnnotations = new Map<string, Readonly<Record<string, string>>>();
  for (const r of kept) if (r.kind === 'Namespace') namespaceAnnotations.set(r.meta.name, r.meta.annotations);
  const nsAnn = (ns: string): Readonly<Record<string, string>> => namespaceAnnotations.get(ns) ?? {};

  const pods: PodModel[] = [];
  const ews: EwModel[] = [];
  const services: ServiceModel[] = [];
  const servers: ServerResource[] = [];
  const authorizationPolicies: AuthorizationPolicyResource[] = [];
  const meshTls = new Map<string, MeshTLSAuthenticationResource>();
  const networks = new Map<string, NetworkAuthenticationResource>();
  for (const r of kept) {
    switch (r.kind) {
      case 'Pod':
        pods.push(bareKindPod(r, podPool, nsAnn(r.meta.namespace), rs));
        break;
      case 'Deployment':
        pods.push(...deploymentPods(r, podPool, nsAnn(r.meta.namespace), rs));
        break;
      case 'ExternalWorkload':
        ews.push(ewModel(r, r.ips, rs));
        break;
      case 'Service':
        services.push(serviceModel(r, servicePool, rs));
        break;
      case 'Server':
        servers.push(r);
        break;
      case 'AuthorizationPolicy':
        authorizationPolicies.push(r);
        break;
      case 'MeshTLSAuthentication':
        meshTls.set(key(r.meta.namespace, r.meta.name), r);
        break;
      case 'NetworkAuthentication':
        networks.set(key(r.meta.namespace, r.meta.name), r);
        break;
      case 'Namespace':
      case 'ServiceAccount':
        break;
    }
  }
  servers.sort((a, b) => createdAt(a) - createdAt(b) || a.source.order - b.source.order || a.meta.name.localeCompare(b.meta.name));

  const serviceByIp = new Map<string, ServiceModel>();
  for (const s of services) for (const ip of s.clusterIPs) serviceByIp.set(ip, s);
  const podByIp = new Map<string, PodModel>();
  for (const p of pods) for (const ip of p.ips) podByIp.set(ip, p);
  const ewsByIp = new Map<string, EwModel[]>();
  for (const e of ews) for (const ip of e.ips) ewsByIp.set(ip, [...(ewsByIp.get(ip) ?? []), e]);
  return Object.freeze({
    rs,
    namespaceAnnotations,
    pods: Object.freeze(pods),
    ews: Object.freeze(ews),
    services: Object.freeze(services),
    servers: Object.freeze(servers),
    authorizationPolicies: Object.freeze(authorizationPolicies),
    meshTlsAuthentications: meshTls,
    networkAuthentications: networks,
    serviceByKey: new Map(services.map((s) => [key(s.namespace, s.name), s])),
    serviceByIp,
    podByKey: new Map(pods.map((p) => [key(p.namespace, p.name), p])),
    podByIp,
    ewByKey: new Map(ews.map((e) => [key(e.namespace, e.name), e])),
    ewsByIp,
    problems,
  });
}
