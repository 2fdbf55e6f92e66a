// The inbound pipeline's front door: original destination, the proxy-port switch, allowed IPs, then forwarding.
import type net from 'node:net';
import { BoundedCache } from '../core/bounded-cache.js';
import { messageOf } from '../core/errors.js';
import type { ConnectionTracker } from '../core/connection-tracker.js';
import type { Config } from '../config/types.js';
import { portSetHas } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import type { Metrics, TcpLabelsHandle, TlsAccept } from '../metrics/index.js';
import { inboundAcceptLabels, inboundConnectLabels } from '../metrics/index.js';
import { applyAcceptOptions, formatAddr, type OrigDstSource, type SocketAddr } from '../transport/index.js';
import { forwardToApp } from './tcp-forward.js';

export interface InboundDeps {
  readonly config: Config;
  /** The port the inbound listener is bound to (resolved if configured as 0). */
  readonly inboundPort: number;
  readonly origDst: OrigDstSource;
  readonly metrics: Metrics;
  readonly tracker: ConnectionTracker;
  readonly log: Logger;
}

const TARGET_CACHE_LIMIT = 10_000;

/** Returns the per-connection handler for the inbound listener. */
export function createInboundHandler(deps: InboundDeps): (socket: net.Socket) => void {
  const { config, log } = deps;
  const inbound = config.inbound;
  const acceptOpts = socketOpts(inbound.server.keepaliveMs, inbound.server.userTimeoutMs);
  const allowedIps = inbound.ips === undefined ? undefined : new Set(inbound.ips);
  const connectHandle = deps.metrics.tcp.bind(inboundConnectLabels());
  // Bound once per (target, TLS state): label rendering stays off the per-connection path.
  const acceptHandles = new BoundedCache<string, TcpLabelsHandle>(TARGET_CACHE_LIMIT);
  const defaultServer = { group: '', kind: 'default', name: inbound.policy.defaultPolicy };
  const acceptHandle = (target: SocketAddr, tls: TlsAccept, tlsKey: string): TcpLabelsHandle =>
    acceptHandles.get(`${formatAddr(target)}|${tlsKey}`, () =>
      deps.metrics.tcp.bind(inboundAcceptLabels({ ip: target.host, port: target.port }, tls, defaultServer)),
    );
  const forwardDeps = {
    config: inbound,
    inboundPort: deps.inboundPort,
    log,
    onConnected: (server: net.Socket) => {
      connectHandle.track(server);
      deps.tracker.add(server);
    },
  };

  return (socket) => {
    deps.tracker.add(socket);
    socket.on('error', noop);
    applyAcceptOptions(socket, acceptOpts, log);
    let target: SocketAddr;
    try {
      target = deps.origDst.lookup(socket);
    } catch (err) {
      log.warn('Server failed to accept connection', { error: messageOf(err), client: socket.remoteAddress });
      socket.destroy();
      return;
    }
    if (allowedIps !== undefined && !allowedIps.has(target.host)) {
      log.info('Connection closed', { error: `unexpected original destination ${formatAddr(target)}`, client: socket.remoteAddress });
      socket.destroy();
      return;
    }
    if (target.port === deps.inboundPort) {
      // Direct connections (the opaque transport) must be mTLS with ALPN transport.l5d.io/v1.
      acceptHandle(target, NO_TLS, 'none').track(socket);
      log.info('Connection closed', {
        error: 'direct connections must use mutual TLS with ALPN transport.l5d.io/v1',
        client: socket.remoteAddress,
      });
      socket.destroy();
      return;
    }
    const skipped = portSetHas(inbound.policy.opaquePorts, target.port);
    acceptHandle(target, skipped ? PORT_SKIPPED : NO_TLS, skipped ? 'skipped' : 'none').track(socket);
    void forwardToApp(socket, target, forwardDeps);
  };
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
