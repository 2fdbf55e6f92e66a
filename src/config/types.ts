// The typed, deeply frozen configuration every other module receives; durations are in milliseconds.
import type { BackoffConfig } from '../core/backoff.js';

export type { BackoffConfig };

export type IpFamily = 4 | 6;

/** A listen address: always an IP literal, never a name. `host` has no brackets. */
export interface SocketAddr {
  /** Canonical IP text (IPv6 lower-case, compressed, no brackets). */
  readonly host: string;
  readonly port: number;
  readonly family: IpFamily;
}

/** A control-plane address: a DNS name or an IP literal plus a port. */
export interface ControlAddr {
  /** DNS name (lower-cased, trailing dot kept as given) or canonical IP text (no brackets). */
  readonly host: string;
  readonly port: number;
  /** `name` for DNS names, `ip` for IP literals. */
  readonly hostKind: 'name' | 'ip';
}

/** A CIDR network. `addr` is canonical IP text; host bits are kept as written. */
export interface IpNetwork {
  readonly family: IpFamily;
  readonly addr: string;
  readonly prefixLen: number;
}

/** An inclusive port range [low, high]. */
export type PortRange = readonly [low: number, high: number];

/** A set of ports as sorted, merged, non-overlapping inclusive ranges; query with `portSetHas`. */
export interface PortSet {
  readonly ranges: readonly PortRange[];
}

/** A TLS identity: DNS-like (matches a DNS SAN) or a URI such as `spiffe://…` (matches a URI SAN). */
export type TlsId =
  | { readonly kind: 'dns'; /** Lower-cased, never ends with a dot. */ readonly value: string }
  | { readonly kind: 'uri'; /** The WHATWG-serialised URL. */ readonly value: string };

/** How a control-plane client secures its connection. */
export type ControlPlaneTls =
  | { readonly kind: 'none'; readonly reason: 'loopback' }
  | {
      readonly kind: 'mtls';
      /** SNI to send (the `<BASE>_NAME` value). */
      readonly serverName: string;
      /** DNS identity the server's certificate must carry (the same `<BASE>_NAME` value). */
      readonly serverId: string;
    };

/** Limits on control-plane gRPC response streams; undefined = no limit. */
export interface StreamLimits {
  /** Max wait for the first message. */
  readonly initialTimeoutMs: number | undefined;
  /** Max wait between messages. */
  readonly idleTimeoutMs: number | undefined;
  /** Max total stream duration. */
  readonly lifetimeMs: number | undefined;
}

/** Request queue in front of a balancer/endpoint. */
export interface QueueConfig {
  readonly capacity: number;
  /** Time a request may wait while no endpoint is ready before failing fast. */
  readonly failfastTimeoutMs: number;
}

/** HTTP/2 client settings used when the proxy dials an endpoint (both directions). */
export interface Http2ClientConfig {
  readonly initialStreamWindowSize: number;
  readonly initialConnectionWindowSize: number;
}

export type Http2FlowControl =
  | { readonly kind: 'adaptive' }
  | { readonly kind: 'fixed'; readonly initialStreamWindowSize: number; readonly initialConnectionWindowSize: number };

/** HTTP/2 server settings of one listener; undefined limits = library default. */
export interface Http2ServerConfig {
  readonly flowControl: Http2FlowControl;
  /** PING keepalive; set only when both timeout and interval are configured. */
  readonly keepAlive: { readonly intervalMs: number; readonly timeoutMs: number } | undefined;
  readonly maxConcurrentStreams: number | undefined;
  readonly maxFrameSize: number | undefined;
  readonly maxHeaderListSize: number | undefined;
  readonly maxPendingAcceptResetStreams: number | undefined;
  readonly maxSendBufSize: number | undefined;
}

/** Options for sockets a listener accepts (TCP_NODELAY is always on and not configurable). */
export interface ServerConfig {
  /** TCP keepalive idle time on accepted sockets; undefined = off. */
  readonly keepaliveMs: number | undefined;
  /** TCP_USER_TIMEOUT on accepted sockets (Linux); undefined = OS default. */
  readonly userTimeoutMs: number | undefined;
  /** listen(2) backlog; undefined = OS/Node default. When set, SO_REUSEADDR is also set. */
  readonly backlog: number | undefined;
  readonly http2: Http2ServerConfig;
}

/** Options for connections the proxy opens. */
export interface ConnectConfig {
  /** TCP (+TLS for outbound) connect timeout. */
  readonly timeoutMs: number;
  /** Reconnect backoff. */
  readonly backoff: BackoffConfig;
  /** TCP keepalive idle time on outgoing sockets; undefined = off. */
  readonly keepaliveMs: number | undefined;
  /** TCP_USER_TIMEOUT on outgoing sockets (Linux); undefined = OS default. */
  readonly userTimeoutMs: number | undefined;
  readonly http1Pool: {
    /** Max idle pooled HTTP/1 connections per endpoint. */
    readonly maxIdlePerEndpoint: number;
    /** Idle pooled HTTP/1 connections are closed after this long. */
    readonly idleTimeoutMs: number;
  };
  readonly http2: Http2ClientConfig;
}

/** Listen addresses. The admin and tap servers use `inbound.server`'s socket and HTTP/2 options. */
export interface ListenersConfig {
  /** Inbound listener (redirected inbound traffic and direct connections). */
  readonly inbound: SocketAddr;
  /** Outbound listener(s): one, or two for dual stack. */
  readonly outbound: readonly [SocketAddr] | readonly [SocketAddr, SocketAddr];
  /** Admin HTTP server. */
  readonly admin: SocketAddr;
  /** Tap gRPC server; undefined when `TAP_SVC_NAME` is unset (tap disabled). */
  readonly tap:
    | {
        readonly addr: SocketAddr;
        /** The only client identity allowed to use tap. */
        readonly permittedClientId: TlsId;
      }
    | undefined;
}

export type DefaultPolicy =
  | 'deny'
  | 'all-authenticated'
  | 'all-unauthenticated'
  | 'cluster-authenticated'
  | 'cluster-unauthenticated'
  | 'audit';

export interface InboundPolicyConfig {
  /** Applies to ports without a discovered policy (opaque variant on `opaquePorts`). */
  readonly defaultPolicy: DefaultPolicy;
  /** Networks that count as "cluster" for the `cluster-*` default policies; may be empty. */
  readonly clusterNetworks: readonly IpNetwork[];
  /** `INBOUND_PORTS` exactly as configured. */
  readonly ports: PortSet;
  /** Ports whose policy is watched eagerly at startup: `ports` ∪ admin port ∪ (inbound port if gateway suffixes are set). */
  readonly eagerPorts: PortSet;
  /** Ports treated as opaque by default (no TLS or HTTP detection). */
  readonly opaquePorts: PortSet;
  /** How long an unused per-port policy watch is retained. */
  readonly cacheMaxIdleAgeMs: number;
}

export interface InboundConfig {
  readonly server: ServerConfig;
  readonly connect: ConnectConfig;
  /** Concurrency limit per HTTP server; over the limit ⇒ 503. */
  readonly maxInFlight: number;
  /** TLS-detect / transport-header read timeout, and the default policies' HTTP detect timeout. */
  readonly detectTimeoutMs: number;
  /** Unused discovery entries are dropped after this long. */
  readonly discoveryIdleTimeoutMs: number;
  readonly httpQueue: QueueConfig;
  readonly policy: InboundPolicyConfig;
  /** Canonical IPs of this workload; connections to other orig-dst IPs are rejected. Outbound treats them as local. Undefined ⇒ allow all. */
  readonly ips: readonly string[] | undefined;
  /** DNS suffixes this proxy acts as a multicluster gateway for (lower-cased; `.` = all). */
  readonly gatewaySuffixes: readonly string[];
  /** Add the `authority` label to inbound HTTP metrics. */
  readonly metricsAuthorityLabels: boolean;
}

export interface OutboundConfig {
  readonly server: ServerConfig;
  readonly connect: ConnectConfig;
  readonly maxInFlight: number;
  /** HTTP detection read timeout. */
  readonly detectTimeoutMs: number;
  readonly discoveryIdleTimeoutMs: number;
  readonly httpQueue: QueueConfig;
  /** Queue for opaque connections (also synthesized policies). */
  readonly tcpQueue: QueueConfig;
  /** Always HTTP-detect and route on `l5d-dst-override`/Host instead of the original destination. */
  readonly ingressMode: boolean;
  /** Suppress `l5d-proxy-error`/`l5d-proxy-connection`/`grpc-message` on synthetic responses. */
  readonly disableInformationalHeaders: boolean;
  /** Export hostname labels on outbound route metrics. */
  readonly metricsHostnameLabels: boolean;
}

/** One control-plane gRPC client, with the connection settings the Rust proxy derives for it. */
export interface ControlPlaneClient {
  readonly addr: ControlAddr;
  readonly tls: ControlPlaneTls;
  /** The inbound connect settings for a loopback addr, otherwise the outbound ones. */
  readonly connect: ConnectConfig;
  /** Request buffer in front of the client. */
  readonly queue: QueueConfig;
  /** The configured stream limits, or none at all for a loopback addr. */
  readonly streamLimits: StreamLimits;
}

export interface ControlPlaneConfig {
  readonly destination: ControlPlaneClient;
  /** Opaque `context_token` sent in every Destination request. */
  readonly destinationContext: string;
  /** Names for which profiles may be looked up (lower-cased; `.` = all; empty = none). */
  readonly profileSuffixes: readonly string[];
  /** Outbound profile lookups by IP only for IPs inside these; empty ⇒ never. */
  readonly profileNetworks: readonly IpNetwork[];
  /** Inbound: a request waits at most this long for its profile. */
  readonly profileInitialTimeoutMs: number;
  readonly policy: ControlPlaneClient;
  /** `POLICY_WORKLOAD`, sent verbatim (trailing whitespace included). */
  readonly policyWorkload: string;
  /** Stream limits as configured (applied only to non-loopback clients). */
  readonly streamLimits: StreamLimits;
  /** Clamp on DNS TTLs when re-resolving control-plane names. */
  readonly dns: { readonly minTtlMs: number | undefined; readonly maxTtlMs: number | undefined };
}

export interface SpireIdentityMode {
  readonly kind: 'spire';
  /** Unix socket path of the SPIFFE Workload API (any `unix:`/`unix://` prefix removed). */
  readonly workloadApiAddress: string;
  /** Reconnect backoff for the Workload API stream. */
  readonly backoff: BackoffConfig;
}

export interface LinkerdIdentityMode {
  readonly kind: 'linkerd';
  /** The identity service (Certify). */
  readonly svc: ControlPlaneClient;
  /** Directory holding `csr.der` and `key.p8` (not read here). */
  readonly dir: string;
  /** Path of the token file, re-read on every Certify call (not read here). */
  readonly tokenFile: string;
  /** Renewal interval clamp. */
  readonly minRefreshMs: number;
  readonly maxRefreshMs: number;
}

export interface IdentityConfig {
  /** `IDENTITY_TRUST_ANCHORS` verbatim. */
  readonly trustAnchorsPem: string;
  /** Each parseable CERTIFICATE block of the bundle, re-encoded as PEM (≥1; unparseable ones skipped). */
  readonly trustAnchors: readonly string[];
  /** This proxy's TLS identity; must be a SAN of its leaf certificate. */
  readonly serverId: TlsId;
  /** The SNI this proxy terminates (DNS name, lower-cased). */
  readonly serverName: string;
  readonly mode: SpireIdentityMode | LinkerdIdentityMode;
}

export interface AdminConfig {
  /** Enables `POST /shutdown`. */
  readonly shutdownEndpointEnabled: boolean;
  /** Legacy metric series idle for this long are dropped at scrape time. */
  readonly metricsRetainIdleMs: number;
}

export interface LoggingConfig {
  /** tracing-style filter directives, e.g. `warn,linkerd=info`. */
  readonly filter: string;
  readonly format: 'plain' | 'json';
  /** HTTP access log on stderr; undefined = off. */
  readonly accessLog: 'apache' | 'json' | undefined;
}

/** Rust runtime sizing; parsed for compatibility, no effect in Node. */
export interface RuntimeConfig {
  readonly coresMin: number | undefined;
  readonly coresMax: number | undefined;
  readonly coresMaxRatio: number | undefined;
}

export interface Config {
  readonly listeners: ListenersConfig;
  readonly inbound: InboundConfig;
  readonly outbound: OutboundConfig;
  readonly controlPlane: ControlPlaneConfig;
  readonly identity: IdentityConfig;
  readonly admin: AdminConfig;
  readonly logging: LoggingConfig;
  /** OpenTelemetry collector; parsed and validated only; this proxy exports no spans. */
  readonly traceCollector: ControlPlaneClient | undefined;
  readonly runtime: RuntimeConfig;
  /** Max drain time after SIGTERM/SIGINT/`/shutdown`. */
  readonly shutdownGracePeriodMs: number;
}
