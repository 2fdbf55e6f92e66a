// The seams of the outbound pipeline: per-target discovery, shared backend dispatchers, endpoint connections.
import type net from 'node:net';
import type { OutboundConfig } from '../config/types.js';
import type { Credentials } from '../identity/types.js';
import type { Logger } from '../log/logger.js';
import type { Metrics, TlsConnect } from '../metrics/index.js';
import type { Endpoint } from '../balance/index.js';
import type { Backend, OutboundPolicy } from '../discovery/outbound-policy-types.js';
import type { DestinationEndpoint } from '../discovery/destination-types.js';
import type { SocketAddr } from '../transport/index.js';

/**
 * Everything known about one original destination `IP:port`, shared by every connection to it
 * and dropped after OUTBOUND_DISCOVERY_IDLE_TIMEOUT unused.
 */
export interface OutboundTarget {
  readonly origDst: SocketAddr;
  /**
   * The target's policy: the controller's, or the synthesized forward-to-orig-dst policy when it
   * has none (NotFound/Unimplemented). Resolves once discovery has answered; rejects with a
   * typed error when discovery refused the target for good.
   */
  ready(): Promise<OutboundPolicy>;
  /** The latest policy once ready (cheap; read per request so route changes apply live). */
  current(): OutboundPolicy | undefined;
  subscribe(listener: (policy: OutboundPolicy) => void): () => void;
  /** The dispatcher of one backend of the current policy, shared by all requests and connections. */
  backend(backend: Backend): BackendDispatcher;
  /** Marks the target used by a connection until the returned release() (idle eviction). */
  hold(): () => void;
}

/** Chooses an endpoint of one backend: P2C over Destination.Get's endpoints, or one forward endpoint. */
export interface BackendDispatcher {
  readonly backend: Backend;
  /**
   * Synchronous when an endpoint is ready; otherwise waits (queue capacity and failfast of the
   * backend's Queue) and rejects with FailFastError / LoadShedError from src/balance.
   */
  pick(signal?: AbortSignal): Endpoint<DestinationEndpoint> | Promise<Endpoint<DestinationEndpoint>>;
}

/** How a connection to an endpoint is made, and what it carries. */
export type EndpointSession =
  /** Raw bytes: with opaque transport, the transport header (no session protocol) is written first. */
  | { readonly kind: 'opaque'; readonly origPort: number }
  /** HTTP/1 requests (pooled); with opaque transport, the header names http1. */
  | { readonly kind: 'http1' }
  /** HTTP/2 (the h2 hint: HTTP/1 requests upgraded with l5d-orig-proto, or native HTTP/2). */
  | { readonly kind: 'http2' };

/** An established connection to an endpoint and how it is secured (for metrics labels). */
export interface EndpointConnection {
  /** The stream to use: the TLS session when mTLS is on, else the TCP socket itself. */
  readonly socket: net.Socket;
  /** The TCP socket under it (transport metrics count wire bytes, TLS included; resets). */
  readonly tcp: net.Socket;
  /** `tls="true",server_id=…` or the no-TLS reason, as TlsConnect from src/metrics. */
  readonly tls: TlsConnect;
}

export interface EndpointConnector {
  /**
   * TCP (+ mTLS when the endpoint has an identity and is not local: SNI = its server name, its
   * identity verified; + the transport header when it offers opaque transport).
   */
  connect(endpoint: DestinationEndpoint, session: EndpointSession, signal?: AbortSignal): Promise<EndpointConnection>;
}

/** Long-lived things every outbound stage may use. */
export interface OutboundRuntime {
  readonly config: OutboundConfig;
  /** This workload's IPs (INBOUND_IPS): endpoints there are local, so no TLS. */
  readonly localIps: ReadonlySet<string>;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly credentials: () => Credentials | undefined;
  readonly track: (socket: net.Socket) => void;
}
