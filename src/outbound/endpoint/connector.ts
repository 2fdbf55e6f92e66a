// Connections to outbound endpoints: TCP, then mTLS for meshed peers, then the transport header for opaque transport.
import type net from 'node:net';
import type tls from 'node:tls';
import { systemClock, type Clock } from '../../core/clock.js';
import type { DestinationEndpoint, EndpointTlsIdentity } from '../../discovery/destination-types.js';
import type { Credentials } from '../../identity/types.js';
import { connectMtls } from '../../tls/client.js';
import type { MeshTlsContexts } from '../../tls/contexts.js';
import { isLoopbackIp } from '../../transport/addr.js';
import { ConnectError, connectTcp, type ConnectOptions } from '../../transport/connect.js';
import { TRANSPORT_HEADER_ALPN, encodeTransportHeader } from '../../transport/transport-header.js';
import type { EndpointConnection, EndpointConnector, EndpointSession, OutboundRuntime } from '../context.js';
import { connectPlan, headerFor, type ConnectPlan } from './connect-plan.js';
import { LoopbackRefusedError, NoClientCredentialsError } from './errors.js';

export interface EndpointConnectorOptions {
  /** Dial loopback addresses (the Rust proxy's test-only `allow-loopback` feature). */
  readonly allowLoopback?: boolean;
  /** Source address of endpoint connections (a one-host mesh without redirection: this workload's IP). */
  readonly sourceIp?: string;
  readonly clock?: Clock;
  /** SecureContexts per certificate; default: the process-wide cache. */
  readonly tlsContexts?: MeshTlsContexts;
}

const TRANSPORT_HEADER_ALPNS: readonly string[] = Object.freeze([TRANSPORT_HEADER_ALPN]);

/**
 * The outbound connector (spec §2, §4.3, §5.2). Endpoints on this workload's own IPs
 * (INBOUND_IPS) are local: plaintext, no transport header. Others with a discovered identity
 * get mTLS (SNI = the server name, the leaf must carry the identity); with opaque transport
 * the connection goes to the peer proxy's inbound port, offers ALPN `transport.l5d.io/v1` and,
 * when the peer selects it, starts with a transport header naming the endpoint's real port.
 * OUTBOUND_CONNECT_TIMEOUT bounds TCP and TLS together, as upstream's connect timeout wraps both.
 * Rejects with ConnectError (TCP, loopback refusal, abort) or the TLS layer's typed errors.
 */
export function createEndpointConnector(rt: OutboundRuntime, opts: EndpointConnectorOptions = {}): EndpointConnector {
  const clock = opts.clock ?? systemClock;
  const allowLoopback = opts.allowLoopback === true;
  const connect = rt.config.connect;
  const tcpOpts: ConnectOptions = {
    timeoutMs: connect.timeoutMs,
    ...(connect.keepaliveMs !== undefined ? { keepaliveMs: connect.keepaliveMs } : {}),
    ...(connect.userTimeoutMs !== undefined ? { userTimeoutMs: connect.userTimeoutMs } : {}),
    clock,
    log: rt.log,
    ...(opts.sourceIp !== undefined ? { localAddress: opts.sourceIp } : {}),
  };
  // Endpoint values are immutable and reused across connections: plan each once.
  const plans = new WeakMap<DestinationEndpoint, ConnectPlan>();
  const planOf = (ep: DestinationEndpoint): ConnectPlan => {
    let plan = plans.get(ep);
    if (plan === undefined) {
      plan = connectPlan(ep, rt.localIps.has(ep.addr.host), rt.log);
      plans.set(ep, plan);
    }
    return plan;
  };

  return {
    async connect(endpoint: DestinationEndpoint, session: EndpointSession, signal?: AbortSignal): Promise<EndpointConnection> {
      const plan = planOf(endpoint);
      if (!allowLoopback && isLoopbackIp(plan.dial.host)) throw new LoopbackRefusedError(plan.dial);
      const started = clock.monotonic();
      const tcp = await connectTcp(plan.dial, signal === undefined ? tcpOpts : { ...tcpOpts, signal });
      if (plan.identity === undefined) return { socket: tcp, tcp, tls: plan.tls };
      const creds = rt.credentials();
      if (creds === undefined) {
        tcp.destroy();
        throw new NoClientCredentialsError();
      }
      // Errors of the TCP socket surface on the TLS socket wrapping it; this keeps a late one from crashing us.
      tcp.on('error', noop);
      const tlsSocket = await handshake(tcp, plan, plan.identity, creds, Math.max(1, connect.timeoutMs - (clock.monotonic() - started)), signal);
      if (plan.transportHeader && tlsSocket.alpnProtocol === TRANSPORT_HEADER_ALPN) {
        // Written before an HTTP/2 session takes the socket over: a write still queued on the TLS
        // socket then completes into the session's stream listener, which aborts node (is_write_in_progress).
        await writeFully(tlsSocket, encodeTransportHeader(headerFor(plan, endpoint, session)));
      }
      return { socket: tlsSocket, tcp, tls: plan.tls };
    },
  };

  async function handshake(
    tcp: net.Socket,
    plan: ConnectPlan,
    identity: EndpointTlsIdentity,
    creds: Credentials,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<tls.TLSSocket> {
    const onAbort = (): void => void tcp.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const tlsSocket = await connectMtls(tcp, creds, {
        serverName: identity.serverName,
        expectedServerId: identity.name,
        ...(plan.transportHeader ? { alpn: TRANSPORT_HEADER_ALPNS } : {}),
        timeoutMs,
        clock,
        ...(opts.tlsContexts !== undefined ? { contexts: opts.tlsContexts } : {}),
      });
      tlsSocket.on('error', noop);
      return tlsSocket;
    } catch (err) {
      if (signal?.aborted === true) throw new ConnectError(plan.dial, 'connect-aborted', 'aborted during the TLS handshake', { cause: err });
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function noop(): void {}

function writeFully(socket: tls.TLSSocket, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve())));
}
