// What the inbound accept path knows about a connection when it hands it to a protocol stage.
import type net from 'node:net';
import type { InboundConfig } from '../config/types.js';
import type { Credentials } from '../identity/types.js';
import type { Logger } from '../log/logger.js';
import type { Metrics, TlsAccept } from '../metrics/index.js';
import type { CompiledServerPolicy } from '../policy/inbound/index.js';
import type { SocketAddr } from '../transport/index.js';

/**
 * The server policy of one port as it changes over time: the default policy until the policy
 * controller answers, then whatever it sends. `current()` is cheap (called per request).
 */
export interface PortPolicy {
  current(): CompiledServerPolicy;
  /** Called after every change; returns an unsubscribe function. */
  subscribe(listener: (policy: CompiledServerPolicy) => void): () => void;
}

/** Where per-port policies come from (discovery, or the default policy in tests). */
export interface PortPolicies {
  /** The port's policy; watching starts on first use (ports in INBOUND_PORTS are watched from startup). */
  get(port: number): PortPolicy;
  close(): void;
}

/** One accepted inbound connection after the TLS step, as every protocol stage receives it. */
export interface InboundConnection {
  /** The stream to serve: the raw socket, or the decrypted TLS session on it. */
  readonly stream: net.Socket;
  /** The raw TCP socket (transport metrics, resets). */
  readonly socket: net.Socket;
  /** The original destination, which is also where the app is dialled (spec §4.1). */
  readonly target: SocketAddr;
  readonly clientIp: string;
  readonly tls: TlsAccept;
  /** The verified client identity when TLS was terminated with a client certificate. */
  readonly clientId: string | undefined;
  readonly policy: PortPolicy;
}

/** Shared, long-lived things every inbound stage may use. */
export interface InboundRuntime {
  readonly config: InboundConfig;
  /** The inbound listener's port (never dialled). */
  readonly inboundPort: number;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Our current certificate (present once the proxy serves). */
  readonly credentials: () => Credentials | undefined;
  /** Registers a socket so shutdown can drain it. */
  readonly track: (socket: net.Socket) => void;
}
