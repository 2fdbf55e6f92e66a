// The outbound pipeline's front door: original destination, then forwarding to it.
import type net from 'node:net';
import { acceptWithOrigDst } from '../core/accepted.js';
import { BoundedCache } from '../core/bounded-cache.js';
import type { ConnectionTracker } from '../core/connection-tracker.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Metrics, TcpLabelsHandle, TlsConnect } from '../metrics/index.js';
import { outboundAcceptLabels, outboundConnectLabels } from '../metrics/index.js';
import { formatAddr, type OrigDstSource, type SocketAddr } from '../transport/index.js';
import { socketOpts } from '../inbound/accept.js';
import { forwardToOrigDst } from './tcp-forward.js';

export interface OutboundDeps {
  readonly config: Config;
  readonly origDst: OrigDstSource;
  readonly metrics: Metrics;
  readonly tracker: ConnectionTracker;
  readonly log: Logger;
  /** Test-only: permit loopback original destinations. */
  readonly allowLoopback?: boolean;
}

const TARGET_CACHE_LIMIT = 10_000;

interface TargetHandles {
  readonly accept: TcpLabelsHandle;
  readonly connect: TcpLabelsHandle;
}

/** Returns the per-connection handler for the outbound listener(s). */
export function createOutboundHandler(deps: OutboundDeps): (socket: net.Socket) => void {
  const { config, log } = deps;
  const outbound = config.outbound;
  const acceptOpts = socketOpts(outbound.server.keepaliveMs, outbound.server.userTimeoutMs);
  const local = new Set(config.inbound.ips ?? []);
  const handles = new BoundedCache<string, TargetHandles>(TARGET_CACHE_LIMIT);
  const handlesFor = (target: SocketAddr): TargetHandles =>
    handles.get(formatAddr(target), () => {
      const t = { ip: target.host, port: target.port };
      // Without discovery every target is a forward: no identity to verify, so no TLS.
      const tls: TlsConnect = local.has(target.host) ? LOOPBACK : NOT_PROVIDED;
      return { accept: deps.metrics.tcp.bind(outboundAcceptLabels(t)), connect: deps.metrics.tcp.bind(outboundConnectLabels(t, tls)) };
    });

  return (socket) => {
    const target = acceptWithOrigDst(socket, deps, acceptOpts);
    if (target === undefined) return;
    const h = handlesFor(target);
    h.accept.track(socket);
    void forwardToOrigDst(socket, target, {
      config: outbound,
      log,
      allowLoopback: deps.allowLoopback === true,
      onConnected: (server) => {
        h.connect.track(server);
        deps.tracker.add(server);
      },
    });
  };
}

const LOOPBACK: TlsConnect = Object.freeze({ kind: 'none', reason: 'loopback' });
const NOT_PROVIDED: TlsConnect = Object.freeze({ kind: 'none', reason: 'not_provided_by_service_discovery' });

