// The validated Kubernetes resources the dev control plane understands, as plain immutable data.
import type { IpNetwork } from '../../config/types.js';
import type { ManifestProblem } from '../model/types.js';

/** Where a resource came from; `order` is its position among everything loaded (its "creation" order). */
export interface ResourceSource {
  readonly file: string;
  /** 1-based document number within the file. */
  readonly document: number;
  readonly order: number;
}

export interface OwnerReference {
  readonly kind: string;
  readonly name: string;
}

export interface ObjectMeta {
  readonly name: string;
  /** `''` for cluster-scoped kinds (Namespace); `default` when a namespaced resource names none. */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** `metadata.creationTimestamp` in epoch milliseconds, when the manifest carries one. */
  readonly creationTimestamp?: number;
  readonly ownerReferences: readonly OwnerReference[];
}

interface ResourceBase<K extends string> {
  readonly kind: K;
  readonly apiVersion: string;
  readonly meta: ObjectMeta;
  readonly source: ResourceSource;
}

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/** A Kubernetes label selector; both parts must hold (an empty selector selects everything). */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly { readonly key: string; readonly operator: SelectorOperator; readonly values: readonly string[] }[];
}

/** A named or numbered port with its L4 protocol (`TCP`, `UDP`, `SCTP`). */
export interface DeclaredPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol: string;
}

export interface ExternalWorkloadResource extends ResourceBase<'ExternalWorkload'> {
  /** `spec.meshTLS.identity` (v1alpha1: `spec.meshTls`). */
  readonly identity: string;
  readonly serverName: string;
  readonly ips: readonly string[];
  readonly ports: readonly DeclaredPort[];
  /** A `Ready` condition with status `"True"`. */
  readonly ready: boolean;
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  /** Defaults to `port`. */
  readonly targetPort: number | string;
  readonly protocol: string;
  readonly appProtocol?: string;
}

export interface ServiceResource extends ResourceBase<'Service'> {
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** Canonical IP, `None` (headless), or undefined: assigned from the service pool. */
  readonly clusterIP: string | undefined;
  readonly ipFamilies: readonly (4 | 6)[] | undefined;
  /** Undefined for a Service without a selector (it gets no endpoints here). */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePort[];
}

/** An HTTP probe, resolved to a port number and a path (query dropped). */
export interface HttpProbe {
  readonly port: number;
  readonly path: string;
}

/** What the model needs of a pod spec. */
export interface PodSpecInfo {
  readonly serviceAccount: string;
  /** Ports of containers and init containers. */
  readonly ports: readonly DeclaredPort[];
  readonly probes: readonly HttpProbe[];
  readonly hostname?: string;
  readonly subdomain?: string;
}

export interface PodResource extends ResourceBase<'Pod'> {
  readonly spec: PodSpecInfo;
  /** From the `devmesh.l5d.io/ips` annotation (at most one per family); empty: assigned. */
  readonly ips: readonly string[];
  readonly ready: boolean;
}

export interface DeploymentResource extends ResourceBase<'Deployment'> {
  readonly replicas: number;
  readonly selector: LabelSelector;
  readonly template: {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly spec: PodSpecInfo;
  };
  /** One IP per replica from `devmesh.l5d.io/ips`; missing ones are assigned. */
  readonly ips: readonly string[];
}

export type ProxyProtocolName = 'unknown' | 'HTTP/1' | 'HTTP/2' | 'gRPC' | 'opaque' | 'TLS';

export type DefaultPolicyName = 'all-unauthenticated' | 'all-authenticated' | 'cluster-unauthenticated' | 'cluster-authenticated' | 'deny' | 'audit';

export interface ServerResource extends ResourceBase<'Server'> {
  readonly selects: 'pod' | 'external-workload';
  readonly selector: LabelSelector;
  readonly port: number | string;
  readonly proxyProtocol: ProxyProtocolName;
  readonly accessPolicy?: DefaultPolicyName;
}

export interface AuthenticationRef {
  readonly kind: 'MeshTLSAuthentication' | 'NetworkAuthentication' | 'ServiceAccount';
  readonly name: string;
  /** Defaults to the referring resource's namespace. */
  readonly namespace?: string;
}

export interface AuthorizationPolicyResource extends ResourceBase<'AuthorizationPolicy'> {
  readonly target: { readonly kind: 'Server' | 'Namespace'; readonly name: string };
  readonly authentications: readonly AuthenticationRef[];
}

export type IdentityRef = { readonly kind: 'ServiceAccount'; readonly name: string; readonly namespace?: string } | { readonly kind: 'Namespace'; readonly name: string };

export interface MeshTLSAuthenticationResource extends ResourceBase<'MeshTLSAuthentication'> {
  readonly identities: readonly string[];
  readonly identityRefs: readonly IdentityRef[];
}

export interface NetworkAuthenticationResource extends ResourceBase<'NetworkAuthentication'> {
  readonly networks: readonly { readonly cidr: IpNetwork; readonly except: readonly IpNetwork[] }[];
}

export type NamespaceResource = ResourceBase<'Namespace'>;
export type ServiceAccountResource = ResourceBase<'ServiceAccount'>;

export type ManifestResource =
  | ExternalWorkloadResource
  | ServiceResource
  | PodResource
  | DeploymentResource
  | ServerResource
  | AuthorizationPolicyResource
  | MeshTLSAuthenticationResource
  | NetworkAuthenticationResource
  | NamespaceResource
  | ServiceAccountResource;

export type ManifestKind = ManifestResource['kind'];

/** Everything loaded: the usable resources in load order and what was wrong with the rest. */
export interface ManifestSet {
  readonly resources: readonly ManifestResource[];
  readonly problems: readonly ManifestProblem[];
}
