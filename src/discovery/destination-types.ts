// Endpoints and profiles as the Destination service describes them, decoded into plain immutable values.
import type { SocketAddr } from '../transport/addr.js';

export type { SocketAddr };

/**
 * The identity an endpoint's proxy proves, and the SNI to send it. A DNS identity doubles as SNI
 * when the controller names none; a URI identity without a server name is dropped at decode
 * time (the endpoint is then treated as unmeshed).
 */
export interface EndpointTlsIdentity {
  readonly kind: 'dns' | 'uri';
  /** A DNS-like name (lower-case) or a URI such as `spiffe://…`, as the peer's SAN must carry it. */
  readonly name: string;
  /** DNS name for the ClientHello SNI. */
  readonly serverName: string;
}

/** `h2`: the peer proxy takes HTTP/1 over HTTP/2 (l5d-orig-proto); `opaque`: no session protocol. */
export type EndpointProtocolHint = 'h2' | 'opaque';

/** Per-endpoint HTTP/2 client tuning; absent parts mean the proxy's own settings. */
export interface EndpointHttp2Params {
  readonly flowControl:
    | { readonly kind: 'adaptive' }
    | { readonly kind: 'fixed'; readonly initialConnectionWindowSize: number; readonly initialStreamWindowSize: number }
    | undefined;
  readonly keepAlive: { readonly intervalMs: number; readonly timeoutMs: number; readonly whileIdle: boolean } | undefined;
  readonly maxConcurrentResetStreams: number | undefined;
  readonly maxFrameSize: number | undefined;
  readonly maxSendBufSize: number | undefined;
}

/** A reference to a Kubernetes object (or a synthesised default when `group` is '' and `kind` is `default`). */
export interface PolicyMeta {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  /** Route/listener section name; undefined when empty. */
  readonly section: string | undefined;
  /** Undefined when 0 or out of range. */
  readonly port: number | undefined;
}

/** One endpoint from Destination.Get (or a profile's single endpoint, or a forward backend). */
export interface DestinationEndpoint {
  /** `ip:port` (IPv6 bracketed): the key updates are matched by. */
  readonly key: string;
  readonly addr: SocketAddr;
  readonly weight: number;
  /** The set's labels overlaid with the endpoint's own. */
  readonly metricLabels: Readonly<Record<string, string>>;
  /** Undefined ⇒ not meshed: connect in plaintext. */
  readonly tlsIdentity: EndpointTlsIdentity | undefined;
  readonly protocolHint: EndpointProtocolHint | undefined;
  /** The peer proxy's inbound port for opaque transport (connect there, write a transport header). */
  readonly opaqueTransportPort: number | undefined;
  /** `host:port` to use as the request authority / transport-header name (multicluster gateways). */
  readonly authorityOverride: string | undefined;
  readonly http2: EndpointHttp2Params | undefined;
  /** From the `zone_locality` label: true = same zone, false = another, undefined = unknown. */
  readonly zoneLocal: boolean | undefined;
  readonly resourceRef: PolicyMeta | undefined;
}

/** One decoded `Update` message. Empty add/remove lists and unknown arms decode to nothing. */
export type DestinationUpdate =
  | { readonly kind: 'add'; readonly endpoints: readonly DestinationEndpoint[] }
  | { readonly kind: 'remove'; readonly addrs: readonly string[] }
  /** `exists: false` means the target does not exist at all (a caller may fall back to DNS). */
  | { readonly kind: 'no-endpoints'; readonly exists: boolean };

/** How a subscriber's view changed; `reset` replaces everything (also what a new subscriber gets first). */
export type EndpointChange =
  | { readonly kind: 'add'; readonly endpoints: readonly DestinationEndpoint[] }
  | { readonly kind: 'remove'; readonly addrs: readonly string[] }
  | { readonly kind: 'reset'; readonly endpoints: readonly DestinationEndpoint[] }
  | { readonly kind: 'does-not-exist' }
  /** The control plane refused the request for good (InvalidArgument / FailedPrecondition). */
  | { readonly kind: 'rejected'; readonly code: string; readonly message: string };

/** What Destination.Get subscribers receive: the whole current set and the change that produced it. */
export interface EndpointsView {
  readonly endpoints: ReadonlyMap<string, DestinationEndpoint>;
  /** False after `no_endpoints{exists:false}`, until endpoints are added again. */
  readonly exists: boolean;
  readonly change: EndpointChange;
}

// ---- GetProfile -----------------------------------------------------------------------------

export type ProfileRequestMatch =
  | { readonly kind: 'all'; readonly matches: readonly ProfileRequestMatch[] }
  | { readonly kind: 'any'; readonly matches: readonly ProfileRequestMatch[] }
  | { readonly kind: 'not'; readonly match: ProfileRequestMatch }
  /** Anchored at both ends (`^…$` added when missing). */
  | { readonly kind: 'path'; readonly regex: string }
  | { readonly kind: 'method'; readonly method: string };

export type ProfileResponseMatch =
  | { readonly kind: 'all'; readonly matches: readonly ProfileResponseMatch[] }
  | { readonly kind: 'any'; readonly matches: readonly ProfileResponseMatch[] }
  | { readonly kind: 'not'; readonly match: ProfileResponseMatch }
  | { readonly kind: 'status'; readonly min: number; readonly max: number };

export interface ProfileResponseClass {
  readonly condition: ProfileResponseMatch;
  readonly isFailure: boolean;
}

export interface ProfileRoute {
  readonly condition: ProfileRequestMatch;
  readonly responseClasses: readonly ProfileResponseClass[];
  readonly metricsLabels: Readonly<Record<string, string>>;
  readonly isRetryable: boolean;
  readonly timeoutMs: number | undefined;
}

export interface RetryBudget {
  readonly retryRatio: number;
  readonly minRetriesPerSecond: number;
  readonly ttlMs: number;
}

export interface DstOverride {
  /** `name:port` to resolve with Destination.Get. */
  readonly authority: string;
  readonly weight: number;
  readonly backendRef: PolicyMeta | undefined;
}

export interface DestinationProfile {
  /** Routes whose condition could not be decoded are left out, as upstream. */
  readonly routes: readonly ProfileRoute[];
  /** Undefined when absent or out of the accepted ranges (retries are then off). */
  readonly retryBudget: RetryBudget | undefined;
  /** Zero-weight and unparsable overrides are left out. */
  readonly dstOverrides: readonly DstOverride[];
  readonly opaqueProtocol: boolean;
  /** The service name (no port) when the target is a service; undefined when empty or not a DNS name. */
  readonly fullyQualifiedName: string | undefined;
  /** Set when the target is a single endpoint: connect to it directly with this metadata. */
  readonly endpoint: DestinationEndpoint | undefined;
  readonly parentRef: PolicyMeta | undefined;
  readonly profileRef: PolicyMeta | undefined;
}

/** What GetProfile subscribers receive. */
export type ProfileView =
  | { readonly kind: 'profile'; readonly profile: DestinationProfile }
  /** The control plane refused the lookup (InvalidArgument / FailedPrecondition): proceed without a profile. */
  | { readonly kind: 'none'; readonly code: string; readonly message: string };
