// Pods and ExternalWorkloads as the controllers see them: injected annotations, port names, opaque and policy settings.
import {
  CONTROL_PLANE_NS_LABEL,
  DEFAULT_INBOUND_POLICY_ANNOTATION,
  INJECT_ANNOTATION,
  OPAQUE_PORTS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REQUIRE_IDENTITY_PORTS_ANNOTATION,
  SKIP_INBOUND_PORTS_ANNOTATION,
  ZONE_LABEL,
  isDefaultPolicyName,
  parsePortList,
} from '../manifests/annotations.js';
import type { DeclaredPort, DefaultPolicyName, ExternalWorkloadResource, PodSpecInfo, ResourceSource } from '../manifests/types.js';
import type { ResolvedSettings } from './settings.js';

/** What both workload kinds share for destination and policy answers. */
interface WorkloadBase {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ready: boolean;
  readonly source: ResourceSource;
  /** Replica index for pods of a Deployment (keeps their order stable). */
  readonly index: number;
  /** TCP port names (Servers and annotations name ports by these). */
  readonly portNames: ReadonlyMap<string, readonly number[]>;
  /** Destination side: the opaque-ports annotation, else the cluster's default opaque ports. */
  readonly opaquePorts: ReadonlySet<number>;
  /** Policy side: the opaque-ports annotation only. */
  readonly inboundOpaquePorts: ReadonlySet<number>;
  readonly requireIdentityPorts: ReadonlySet<number>;
  readonly defaultPolicy: DefaultPolicyName | undefined;
  readonly zone: string;
}

export interface PodModel extends WorkloadBase {
  readonly kind: 'pod';
  readonly spec: PodSpecInfo;
  /** Runs a proxy (injected, or labelled with a control-plane namespace). */
  readonly meshed: boolean;
  /** The owner as the destination controller names it (`deployment`/`pod` and a name). */
  readonly owner: { readonly kind: string; readonly name: string };
  readonly skipInboundPorts: ReadonlySet<number>;
}

export interface EwModel extends WorkloadBase {
  readonly kind: 'external-workload';
  readonly identity: string;
  readonly serverName: string;
  readonly ports: readonly DeclaredPort[];
  /** The sole owner reference, if exactly one. */
  readonly owner: { readonly kind: string; readonly name: string } | undefined;
  /** The workload proxy's inbound port: the port named `linkerd-proxy`, else 4143. */
  readonly proxyPort: number;
}

export type WorkloadModel = PodModel | EwModel;

export const PROXY_INBOUND_PORT = 4143;

function portNamesOf(ports: readonly DeclaredPort[]): Map<string, number[]> {
  const names = new Map<string, number[]>();
  for (const p of ports) {
    if (p.name !== undefined && p.protocol === 'TCP') names.set(p.name, [...(names.get(p.name) ?? []), p.port]);
  }
  return names;
}

function ports(annotations: Readonly<Record<string, string>>, key: string, names: ReadonlyMap<string, readonly number[]>): Set<number> | undefined {
  const v = annotations[key];
  if (v === undefined) return undefined;
  const parsed = parsePortList(v, names);
  // As the controllers do, an unparsable list counts as empty (the loader has warned).
  return 'error' in parsed ? new Set() : parsed.ports;
}

function policyOf(annotations: Readonly<Record<string, string>>): DefaultPolicyName | undefined {
  const v = annotations[DEFAULT_INBOUND_POLICY_ANNOTATION];
  return v !== undefined && isDefaultPolicyName(v) ? v : undefined;
}

/** Proxy-configuration annotations the injector copies from the namespace when the pod has none. */
function inheritable(key: string): boolean {
  return key.startsWith('config.linkerd.io/') || key.startsWith('config.alpha.linkerd.io/') || key === INJECT_ANNOTATION;
}

export interface PodInput {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: PodSpecInfo;
  readonly ips: readonly string[];
  readonly ready: boolean;
  readonly owner: { readonly kind: string; readonly name: string };
  readonly podTemplateHash?: string;
  readonly source: ResourceSource;
  readonly index: number;
}

/**
 * A pod after "admission": when injected (its or its namespace's `linkerd.io/inject`), it gets the
 * control-plane labels, the namespace's proxy annotations it lacks, and — as the proxy injector
 * does — an opaque-ports annotation listing its container ports from the default opaque list.
 */
export function podModel(input: PodInput, nsAnnotations: Readonly<Record<string, string>>, rs: ResolvedSettings): PodModel {
  const names = portNamesOf(input.spec.ports);
  const labels: Record<string, string> = { ...input.labels };
  if (input.podTemplateHash !== undefined) labels[POD_TEMPLATE_HASH_LABEL] = input.podTemplateHash;
  const inject = input.annotations[INJECT_ANNOTATION] ?? nsAnnotations[INJECT_ANNOTATION];
  const injected = labels[CONTROL_PLANE_NS_LABEL] === undefined && (inject === 'enabled' || inject === 'ingress');
  let annotations: Record<string, string> = { ...input.annotations };
  if (injected) {
    labels[CONTROL_PLANE_NS_LABEL] = rs.settings.controlPlaneNamespace;
    labels['linkerd.io/workload-ns'] = input.namespace;
    const fromNs = Object.fromEntries(Object.entries(nsAnnotations).filter(([k]) => inheritable(k)));
    annotations = { ...fromNs, ...annotations };
    if (annotations[OPAQUE_PORTS_ANNOTATION] === undefined) {
      const defaults = input.spec.ports.map((p) => p.port).filter((p) => rs.defaultOpaquePorts.has(p));
      if (defaults.length > 0) annotations[OPAQUE_PORTS_ANNOTATION] = [...new Set(defaults)].join(',');
    }
  }
  const opaque = ports(annotations, OPAQUE_PORTS_ANNOTATION, names);
  return Object.freeze({
    kind: 'pod',
    namespace: input.namespace,
    name: input.name,
    ips: input.ips,
    labels: Object.freeze(labels),
    annotations: Object.freeze(annotations),
    ready: input.ready,
    source: input.source,
    index: input.index,
    portNames: names,
    opaquePorts: opaque ?? rs.defaultOpaquePorts,
    inboundOpaquePorts: opaque ?? new Set<number>(),
    requireIdentityPorts: ports(annotations, REQUIRE_IDENTITY_PORTS_ANNOTATION, names) ?? new Set<number>(),
    skipInboundPorts: ports(annotations, SKIP_INBOUND_PORTS_ANNOTATION, names) ?? new Set<number>(),
    defaultPolicy: policyOf(annotations),
    zone: labels[ZONE_LABEL] ?? '',
    spec: input.spec,
    meshed: labels[CONTROL_PLANE_NS_LABEL] !== undefined && labels[CONTROL_PLANE_NS_LABEL] !== '',
    owner: input.owner,
  });
}

/** An ExternalWorkload; nothing is injected (no namespace defaults apply to it, as upstream). */
export function ewModel(r: ExternalWorkloadResource, ips: readonly string[], rs: ResolvedSettings): EwModel {
  const names = portNamesOf(r.ports);
  const a = r.meta.annotations;
  const opaque = ports(a, OPAQUE_PORTS_ANNOTATION, names);
  const owners = r.meta.ownerReferences;
  return Object.freeze({
    kind: 'external-workload',
    namespace: r.meta.namespace,
    name: r.meta.name,
    ips,
    labels: r.meta.labels,
    annotations: a,
    ready: r.ready,
    source: r.source,
    index: 0,
    portNames: names,
    opaquePorts: opaque ?? rs.defaultOpaquePorts,
    inboundOpaquePorts: opaque ?? new Set<number>(),
    requireIdentityPorts: ports(a, REQUIRE_IDENTITY_PORTS_ANNOTATION, names) ?? new Set<number>(),
    defaultPolicy: policyOf(a),
    zone: r.meta.labels[ZONE_LABEL] ?? '',
    identity: r.identity,
    serverName: r.serverName,
    ports: r.ports,
    owner: owners.length === 1 && owners[0] !== undefined ? owners[0] : undefined,
    proxyPort: r.ports.find((p) => p.name === 'linkerd-proxy')?.port ?? PROXY_INBOUND_PORT,
  });
}
