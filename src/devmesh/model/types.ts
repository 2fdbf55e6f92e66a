// The seam between the dev control plane's Kubernetes model and its gRPC servers: answers as plain proto-shaped data.

/**
 * A message as plain data in the shape protobufjs `Type.fromObject` accepts for the project's own
 * schemas (src/proto): camelCase field names, oneof arms as properties, enums by name, IPv4 as a
 * number (fixed32, big-endian value), Durations as `{ seconds, nanos }`.
 */
export type Wire = Record<string, unknown>;

/** Where a manifest problem is: enough for a user to find and fix it. */
export interface ManifestProblem {
  readonly severity: 'error' | 'warning';
  /** The file as given on the command line (or found in a given directory). */
  readonly file: string;
  /** `Kind namespace/name` (or `document N` when the resource has no usable identity). */
  readonly resource?: string;
  /** A dotted path into the resource, e.g. `spec.meshTLS.identity`, `spec.ports[1].targetPort`. */
  readonly field?: string;
  readonly message: string;
}

/** A gRPC-level refusal: the server ends the call with this status. */
export interface RefusedAnswer {
  readonly kind: 'refused';
  readonly code: 'NOT_FOUND' | 'INVALID_ARGUMENT';
  readonly message: string;
}

/** Destination.Get(path): the whole current endpoint set; the server diffs sets into add/remove updates. */
export type DestinationAnswer =
  | {
      readonly kind: 'endpoints';
      /** `WeightedAddrSet.metricLabels` (service, namespace). */
      readonly setLabels: Readonly<Record<string, string>>;
      /** One `WeightedAddr` each (addr, weight, metricLabels, tlsIdentity, protocolHint, http2). */
      readonly endpoints: readonly Wire[];
    }
  | RefusedAnswer;

/** Destination.GetProfile(path): one `DestinationProfile`. */
export type ProfileAnswer = { readonly kind: 'profile'; readonly profile: Wire } | RefusedAnswer;

/** InboundServerPolicies.WatchPort/GetPort: one `io.linkerd.proxy.inbound.Server`. */
export type InboundAnswer = { readonly kind: 'server'; readonly server: Wire } | RefusedAnswer;

/** OutboundPolicies.Watch/Get: one `io.linkerd.proxy.outbound.OutboundPolicy`. */
export type OutboundAnswer = { readonly kind: 'policy'; readonly policy: Wire } | RefusedAnswer;

/** The outbound request's target (TrafficSpec.target). */
export type TrafficTarget =
  | { readonly kind: 'addr'; readonly ip: string; readonly port: number }
  | { readonly kind: 'authority'; readonly authority: string };

/** A workload a proxy runs for: what the dev control plane needs to issue its identity and print its variables. */
export interface MeshWorkload {
  readonly kind: 'pod' | 'external-workload';
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** ExternalWorkload `spec.meshTLS.identity`; for pods the DNS-like Linkerd identity of their ServiceAccount. */
  readonly identity: string;
  /** ExternalWorkload `spec.meshTLS.serverName`; for pods the same as `identity`. */
  readonly serverName: string;
  /** Pods only. */
  readonly serviceAccount?: string;
  /** Declared ports (EW spec.ports; pod container ports). */
  readonly ports: readonly { readonly name?: string; readonly port: number }[];
}

/** The cluster-wide facts the model was computed with (defaults of a stock Linkerd install). */
export interface MeshSettings {
  /** `cluster.local`. */
  readonly clusterDomain: string;
  /** Linkerd's identity trust domain, `cluster.local`. */
  readonly identityTrustDomain: string;
  /** The control plane's namespace, `linkerd`. */
  readonly controlPlaneNamespace: string;
  /** CIDRs the policy controller treats as the cluster (cluster-* default policies, NotFound vs egress). */
  readonly clusterNetworks: readonly string[];
  /** Helm `proxy.defaultInboundPolicy`: `all-unauthenticated`. */
  readonly defaultInboundPolicy: string;
  /** Ports opaque by default (Linkerd's default list: 25,587,3306,4444,5432,6379,9300,11211). */
  readonly defaultOpaquePorts: readonly number[];
  /**
   * Not a Linkerd setting: for meshes without traffic redirection (the loopback demo), every
   * meshed endpoint carries opaque transport to its proxy's inbound port, so clients dial the
   * proxy directly and name the application port in the transport header. Default false.
   */
  readonly directEndpoints?: boolean;
}

/**
 * One consistent view of every manifest, computed once per change. All methods are pure and
 * cheap enough to call for every open watch on every change; the servers compare successive
 * answers and push only when they differ.
 */
export interface MeshSnapshot {
  readonly settings: MeshSettings;
  /** Everything wrong or skipped in the manifests this snapshot was built from. */
  readonly problems: readonly ManifestProblem[];
  readonly workloads: readonly MeshWorkload[];
  /** `path` as the proxy sends it, e.g. `legacy-app.mixed-env.svc.cluster.local:80` (an `IP:port` path is refused). */
  destinationGet(path: string): DestinationAnswer;
  /** `path` is a service authority or an `IP:port`. */
  destinationProfile(path: string): ProfileAnswer;
  /** `workload` is the raw LINKERD2_PROXY_POLICY_WORKLOAD string (JSON or `ns:pod`). */
  inboundServer(workload: string, port: number): InboundAnswer;
  outboundPolicy(target: TrafficTarget, sourceWorkload: string): OutboundAnswer;
}
