// Direct connections to the inbound port: mTLS with ALPN transport.l5d.io/v1, then a transport header names the real port.
import type net from 'node:net';
import type tls from 'node:tls';
import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import { dnsSuffixesContain } from '../config/index.js';
import type { TlsAccept } from '../metrics/index.js';
import { abortSocket, formatAddr, normalizeMappedIPv4, socketAddr, type SocketAddr } from '../transport/index.js';
import { TRANSPORT_HEADER_ALPN, type TransportHeader } from '../transport/transport-header.js';
import type { InboundConnection, InboundRuntime, PortPolicies } from './context.js';
import { directMetricsFor } from './direct/metrics.js';
import { readTransportHeader } from './direct/read-header.js';
import { enforceTcpAuthorization, type TcpTerminateMetrics } from './policy/index.js';
import type { TcpAuthzMetrics } from './tcp-authz.js';
import { InboundLoopError } from './tcp-forward.js';
import { acceptTls } from './tls-accept.js';

export { TRANSPORT_HEADER_CONNECTIONS } from './direct/metrics.js';

/** How the stream after the header is served: the header's session protocol, or opaque TCP. */
export type DirectProtocol = 'opaque' | 'http1' | 'http2';

export const DIRECT_NO_IDENTITY = 'direct connections must be mutually authenticated';
export const DIRECT_NO_ALPN = 'direct connections require transport header negotiation';

export interface DirectDeps {
  readonly policies: PortPolicies;
  /**
   * Serves the connection once its target is known (and, for opaque, authorized). Every byte
   * the client sent after the header is still unread in `conn.stream`, in order: serveDirect
   * never reads past the header, so `initial` is always empty. (It is there so the caller can
   * treat direct connections like detected ones, whose detection bytes arrive as `initial`.)
   * The TLS stream may already have seen the client's EOF if it came right behind the header.
   */
  forward(conn: InboundConnection, protocol: DirectProtocol, initial: Buffer): void;
  /**
   * Pass the accept path's instances so these legacy families are registered (and rendered)
   * once; without them serveDirect makes its own, once per Metrics bundle.
   */
  readonly authzMetrics?: TcpAuthzMetrics;
  readonly terminateMetrics?: TcpTerminateMetrics;
  readonly clock?: Clock;
}

export type DirectOutcome =
  | { readonly kind: 'forwarded'; readonly protocol: DirectProtocol; readonly target: SocketAddr; readonly header: TransportHeader }
  /** TCP authorization refused the client: the connection was reset. */
  | { readonly kind: 'denied'; readonly target: SocketAddr }
  /** Refused or failed before forwarding: the connection was closed and `reason` logged. */
  | { readonly kind: 'closed'; readonly reason: string };

/**
 * Handles a connection whose original destination port is the inbound port itself (spec
 * §4.3). `socket` is the accepted raw socket, not yet read; `target` its original destination.
 * Terminates TLS for our SNI offering ALPN transport.l5d.io/v1, requires a client identity and
 * that ALPN, reads the header within the inbound detect timeout, then retargets the connection
 * to `<target IP>:<header port>` under that port's policy. Opaque streams are TCP-authorized
 * here (denied ⇒ reset) and re-authorized on every policy change for as long as they are open;
 * HTTP streams are authorized per request by the caller's stack.
 * Resolves (never rejects) once the connection is handed to `deps.forward` or closed.
 */
export async function serveDirect(socket: net.Socket, target: SocketAddr, rt: InboundRuntime, deps: DirectDeps): Promise<DirectOutcome> {
  const { log } = rt;
  const client = socket.remoteAddress;
  socket.on('error', noop);
  const refuse = (reason: string, tlsSocket?: tls.TLSSocket): DirectOutcome => {
    log.info('Connection closed', { error: reason, client });
    tlsSocket?.destroy();
    socket.destroy();
    return { kind: 'closed', reason };
  };

  const creds = rt.credentials();
  if (creds === undefined) return refuse('no identity certificate to terminate TLS with');
  let accepted;
  try {
    accepted = await acceptTls(socket, creds, {
      serverName: creds.serverName,
      timeoutMs: rt.config.detectTimeoutMs,
      alpn: [TRANSPORT_HEADER_ALPN],
    });
  } catch (err) {
    return refuse(messageOf(err));
  }
  if (accepted.kind === 'eof') {
    log.debug('Connection closed', { error: 'closed before sending any byte', client });
    socket.destroy();
    return { kind: 'closed', reason: 'connection closed before sending any byte' };
  }
  if (accepted.kind === 'raw') {
    const seen = accepted.status.kind === 'passthru' ? `TLS for ${accepted.status.sni}` : 'no TLS';
    return refuse(`${DIRECT_NO_IDENTITY} (${seen})`);
  }
  const tlsSocket = accepted.tlsSocket;
  tlsSocket.on('error', noop);
  const clientId = accepted.clientId;
  if (clientId === undefined) return refuse(DIRECT_NO_IDENTITY, tlsSocket);
  if (accepted.alpn !== TRANSPORT_HEADER_ALPN) return refuse(DIRECT_NO_ALPN, tlsSocket);

  const read = await readTransportHeader(tlsSocket, {
    timeoutMs: rt.config.detectTimeoutMs,
    ...(deps.clock !== undefined ? { clock: deps.clock } : {}),
  });
  if (read.kind === 'error') return refuse(read.reason, tlsSocket);
  const { header } = read;
  const metrics = directMetricsFor(rt.metrics);
  metrics.headerReceived(header, clientId);
  if (header.name !== undefined) return refuse(gatewayRefusal(header, rt.config.gatewaySuffixes), tlsSocket);
  if (header.port === rt.inboundPort) return refuse(new InboundLoopError(rt.inboundPort).message, tlsSocket);

  const newTarget = socketAddr(target.host, header.port);
  const policy = deps.policies.get(header.port);
  const compiled = policy.current();
  const server = compiled.policy.meta;
  const status: TlsAccept = accepted.status;
  const conn: InboundConnection = {
    stream: tlsSocket,
    socket,
    target: newTarget,
    clientIp: normalizeMappedIPv4(client ?? ''),
    tls: status,
    clientId,
    policy,
  };
  metrics.acceptHandle(newTarget, status, server).track(socket);
  const protocol: DirectProtocol = header.sessionProtocol ?? 'opaque';
  if (protocol === 'opaque') {
    const authz = deps.authzMetrics ?? metrics.defaultAuthz();
    const clientTls = { kind: 'terminated', clientId } as const;
    const verdict = compiled.authorizeTcp({ clientIp: conn.clientIp, tls: clientTls });
    if (!verdict.allowed) {
      authz.denied(newTarget, server, status);
      log.info('Connection denied', { server: `${server.kind}/${server.name}`, client, client_id: clientId, target: formatAddr(newTarget) });
      abortSocket(socket);
      tlsSocket.destroy();
      return { kind: 'denied', target: newTarget };
    }
    authz.allowed(newTarget, server, verdict.authz.meta, status);
    if (verdict.audit) log.info('Connection allowed', { server: `${server.kind}/${server.name}`, client, client_id: clientId });
    // Held (by the subscription) until the socket closes; a policy that stops admitting it resets it.
    const terminate = deps.terminateMetrics ?? metrics.defaultTerminate();
    enforceTcpAuthorization({ socket, clientIp: conn.clientIp, tls: clientTls }, policy, {
      log,
      onTerminate: (now) => terminate.terminated(newTarget, now.policy.meta, status),
    });
  }
  deps.forward(conn, protocol, read.rest);
  return { kind: 'forwarded', protocol, target: newTarget, header };
}

function gatewayRefusal(header: TransportHeader, suffixes: readonly string[]): string {
  const dst = `${header.name ?? ''}:${header.port}`;
  if (suffixes.length === 0) return `gateway connection to ${dst} refused: this proxy is not a gateway (INBOUND_GATEWAY_SUFFIXES is empty)`;
  if (!dnsSuffixesContain(suffixes, header.name ?? '')) return `gateway connection to ${dst} refused: the name is outside INBOUND_GATEWAY_SUFFIXES`;
  return `gateway connection to ${dst} refused: gateway forwarding is not supported by this proxy`;
}

function noop(): void {}
