// The inbound pipeline's front door: original destination, the proxy-port switch, allowed IPs, then forwarding.
import type net from 'node:net';
import { acceptWithOrigDst } from '../core/accepted.js';
import { BoundedCache } from '../core/bounded-cache.js';
import { messageOf } from '../core/errors.js';
import type { ConnectionTracker } from '../core/connection-tracker.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Metrics, TcpLabelsHandle, TlsAccept } from '../metrics/index.js';
import { inboundAcceptLabels, inboundConnectLabels, tlsAcceptKey } from '../metrics/index.js';
import { abortSocket, formatAddr, type OrigDstSource, type SocketAddr } from '../transport/index.js';
import { forwardToApp } from './tcp-forward.js';
import { acceptTls } from './tls-accept.js';
import { TcpAuthzMetrics, clientTlsOf } from './tcp-authz.js';
import type { Meta } from '../policy/inbound/index.js';
import type { InboundConnection, InboundRuntime, PortPolicy } from './context.js';
import { serveDirect, type DirectProtocol } from './direct.js';
import { createInboundHttp, detectHttp } from './http/index.js';
import { TcpTerminateMetrics, enforceTcpAuthorization, type WatchedPortPolicies } from './policy/index.js';
import type { Credentials } from '../identity/types.js';

export interface InboundDeps {
  readonly config: Config;
  /** The port the inbound listener is bound to (resolved if configured as 0). */
  readonly inboundPort: number;
  readonly origDst: OrigDstSource;
  readonly metrics: Metrics;
  readonly tracker: ConnectionTracker;
  readonly log: Logger;
  /** Our current certificate (the gate guarantees one exists before any connection is handled). */
  readonly credentials: () => Credentials | undefined;
  /** Each port's server policy: discovered, or the default until the controller answers. */
  readonly policies: WatchedPortPolicies;
}

const TARGET_CACHE_LIMIT = 10_000;

export interface InboundHandler {
  /** Handles one accepted connection. */
  readonly handle: (socket: net.Socket) => void;
  /** Closes pooled app connections and HTTP/2 sessions (at shutdown, after draining). */
  close(): void;
}

/** Returns the per-connection handler for the inbound listener. */
export function createInboundHandler(deps: InboundDeps): InboundHandler {
  const { config, log } = deps;
  const inbound = config.inbound;
  const acceptOpts = socketOpts(inbound.server.keepaliveMs, inbound.server.userTimeoutMs);
  const allowedIps = inbound.ips === undefined ? undefined : new Set(inbound.ips);
  const connectHandle = deps.metrics.tcp.bind(inboundConnectLabels());
  // Bound once per (target, TLS state): label rendering stays off the per-connection path.
  const acceptHandles = new BoundedCache<string, TcpLabelsHandle>(TARGET_CACHE_LIMIT);
  const authzMetrics = new TcpAuthzMetrics(deps.metrics);
  const terminateMetrics = new TcpTerminateMetrics(deps.metrics);
  const acceptHandle = (target: SocketAddr, tls: TlsAccept, server: Meta = deps.policies.get(target.port).current().policy.meta): TcpLabelsHandle =>
    acceptHandles.get(`${formatAddr(target)}|${tlsAcceptKey(tls)}|${server.kind}/${server.name}`, () =>
      deps.metrics.tcp.bind(inboundAcceptLabels({ ip: target.host, port: target.port }, tls, server)),
    );
  const rt: InboundRuntime = {
    config: inbound,
    inboundPort: deps.inboundPort,
    metrics: deps.metrics,
    log,
    credentials: deps.credentials,
    track: (s) => deps.tracker.add(s),
  };
  const http = createInboundHttp(rt);
  /** After a direct connection's header: serve what it says it carries. */
  const forwardDirect = (conn: InboundConnection, protocol: DirectProtocol): void => {
    switch (protocol) {
      case 'opaque':
        void forwardToApp(conn.stream, conn.target, forwardDeps);
        return;
      case 'http1':
        // HTTP sessions are authorized per request; the connection keeps the port's watch alive.
        conn.socket.once('close', conn.policy.subscribe(noop));
        void http.serveHttp1(conn);
        return;
      case 'http2':
        conn.socket.once('close', conn.policy.subscribe(noop));
        void http.serveH2(conn);
        return;
    }
  };
  const forwardDeps = {
    config: inbound,
    inboundPort: deps.inboundPort,
    log,
    onConnected: (server: net.Socket) => {
      connectHandle.track(server);
      deps.tracker.add(server);
    },
  };

  const handle = (socket: net.Socket): void => {
    const target = acceptWithOrigDst(socket, deps, acceptOpts);
    if (target === undefined) return;
    if (allowedIps !== undefined && !allowedIps.has(target.host)) {
      log.info('Connection closed', { error: `unexpected original destination ${formatAddr(target)}`, client: socket.remoteAddress });
      socket.destroy();
      return;
    }
    if (target.port === deps.inboundPort) {
      // Direct connections (opaque transport): mTLS with ALPN transport.l5d.io/v1, then a header.
      void serveDirect(socket, target, rt, { policies: deps.policies, forward: forwardDirect, authzMetrics, terminateMetrics });
      return;
    }
    const policy = deps.policies.get(target.port);
    // Held from accept to close: the port's watch stays alive while this connection uses it.
    socket.once('close', policy.hold());
    if (policy.current().policy.protocol.kind === 'opaque') {
      // Opaque servers (opaque ports, `deny`) skip detection entirely: bytes go as they come.
      authorizeAndForward(socket, socket, target, policy, PORT_SKIPPED);
      return;
    }
    void detectAndForward(socket, target, policy);
  };
  return { handle, close: () => http.close() };

  /** TCP authorization, then forwarding of `stream` (the socket, or the TLS session on it). */
  function authorizeAndForward(raw: net.Socket, stream: net.Socket, target: SocketAddr, policy: PortPolicy, tls: TlsAccept): void {
    // The policy as it is now, after detection: an update may have landed meanwhile.
    const compiled = policy.current();
    const server = compiled.policy.meta;
    acceptHandle(target, tls, server).track(raw);
    const clientIp = raw.remoteAddress ?? '';
    const clientTls = clientTlsOf(tls);
    const verdict = compiled.authorizeTcp({ clientIp, tls: clientTls });
    if (!verdict.allowed) {
      authzMetrics.denied(target, server, tls);
      log.info('Connection denied', { server: `${server.kind}/${server.name}`, client: raw.remoteAddress, target: formatAddr(target) });
      abortSocket(raw);
      return;
    }
    authzMetrics.allowed(target, server, verdict.authz.meta, tls);
    if (verdict.audit) log.info('Connection allowed', { server: `${server.kind}/${server.name}`, client: raw.remoteAddress });
    // Policy changes re-authorize the open connection; one that is no longer allowed is reset.
    enforceTcpAuthorization({ socket: raw, clientIp, tls: clientTls }, policy, {
      log,
      onTerminate: (now) => terminateMetrics.terminated(target, now.policy.meta, tls),
    });
    void forwardToApp(stream, target, forwardDeps);
  }

  async function detectAndForward(socket: net.Socket, target: SocketAddr, policy: PortPolicy): Promise<void> {
    const creds = deps.credentials();
    if (creds === undefined) {
      socket.destroy();
      return;
    }
    let accepted;
    try {
      accepted = await acceptTls(socket, creds, { serverName: config.identity.serverName, timeoutMs: inbound.detectTimeoutMs });
    } catch (err) {
      // Detection timeouts and failed handshakes close the connection (never treated as opaque).
      acceptHandle(target, NO_TLS).track(socket);
      log.info('Connection closed', { error: messageOf(err), client: socket.remoteAddress });
      abortSocket(socket);
      return;
    }
    if (accepted.kind === 'eof') {
      socket.destroy();
      return;
    }
    // Transport metrics count the raw TCP socket: wire bytes, TLS records included.
    if (accepted.kind === 'terminated') {
      accepted.tlsSocket.on('error', noop);
      await serveProtocol(socket, accepted.tlsSocket, target, policy, accepted.status, accepted.clientId);
      return;
    }
    await serveProtocol(socket, socket, target, policy, accepted.status, undefined);
  }

  /** After the TLS step: the server policy's protocol decides between HTTP and opaque (spec §3.3). */
  async function serveProtocol(raw: net.Socket, stream: net.Socket, target: SocketAddr, policy: PortPolicy, tls: TlsAccept, clientId: string | undefined): Promise<void> {
    const protocol = policy.current().policy.protocol;
    const serveHttp = (version: 'http1' | 'h2'): void => {
      acceptHandle(target, tls).track(raw);
      const conn: InboundConnection = { stream, socket: raw, target, clientIp: raw.remoteAddress ?? '', tls, clientId, policy };
      void (version === 'h2' ? http.serveH2(conn) : http.serveHttp1(conn));
    };
    switch (protocol.kind) {
      case 'opaque':
      case 'tls':
        authorizeAndForward(raw, stream, target, policy, tls);
        return;
      case 'http2':
      case 'grpc':
        serveHttp('h2');
        return;
      case 'http1':
        // A meshed peer may still speak HTTP/2 (orig-proto), so only plaintext skips detection.
        if (tls.kind !== 'established') {
          serveHttp('http1');
          return;
        }
        break;
      case 'detect':
        break;
    }
    const timeoutMs = protocol.kind === 'detect' ? protocol.timeoutMs : inbound.detectTimeoutMs;
    const detected = await detectHttp(stream, { timeoutMs });
    switch (detected.kind) {
      case 'http1':
      case 'h2':
        serveHttp(detected.kind);
        return;
      case 'timeout':
        if (protocol.kind === 'http1') serveHttp('http1');
        else authorizeAndForward(raw, stream, target, policy, tls);
        return;
      case 'opaque':
        authorizeAndForward(raw, stream, target, policy, tls);
        return;
      case 'eof':
      case 'closed':
        acceptHandle(target, tls).track(raw);
        raw.destroy();
        return;
    }
  }
}


const NO_TLS: TlsAccept = Object.freeze({ kind: 'none', reason: 'no_tls_from_remote' });
const PORT_SKIPPED: TlsAccept = Object.freeze({ kind: 'none', reason: 'port_skipped' });

function noop(): void {}

export function socketOpts(keepaliveMs: number | undefined, userTimeoutMs: number | undefined): { keepaliveMs?: number; userTimeoutMs?: number } {
  return {
    ...(keepaliveMs !== undefined ? { keepaliveMs } : {}),
    ...(userTimeoutMs !== undefined ? { userTimeoutMs } : {}),
  };
}
