// The outbound pipeline's front door: original destination → per-target discovery → HTTP detection → HTTP or opaque serving.
import type net from 'node:net';
import { acceptWithOrigDst } from '../core/accepted.js';
import { BoundedCache } from '../core/bounded-cache.js';
import type { ConnectionTracker } from '../core/connection-tracker.js';
import { messageOf } from '../core/errors.js';
import type { Config } from '../config/types.js';
import { makeNetworkMatcher } from '../config/ip.js';
import type { DestinationClient } from '../discovery/destination-client.js';
import type { OutboundPolicyClient } from '../discovery/outbound-policy-client.js';
import type { OutboundPolicy } from '../discovery/outbound-policy-types.js';
import type { Credentials } from '../identity/types.js';
import type { Logger } from '../log/logger.js';
import type { Metrics, TcpLabelsHandle } from '../metrics/index.js';
import { outboundAcceptLabels } from '../metrics/index.js';
import { formatAddr, isLoopbackIp, type OrigDstSource, type SocketAddr } from '../transport/index.js';
import { socketOpts } from '../inbound/accept.js';
import type { EndpointConnector, OutboundRuntime, OutboundTarget } from './context.js';
import { createEndpointConnector } from './endpoint/connector.js';
import { detectOutboundHttp } from './http/detect.js';
import { OutboundHttp1 } from './http/serve-http1.js';
import { serveOutboundOpaque } from './opaque/serve-opaque.js';
import { OutboundHttp2 } from './h2/serve-h2.js';
import { tlsRouteFor } from './tls/sni-routes.js';
import { detectTls } from '../tls/detect.js';
import { createOutboundTargets, type OutboundTargets } from './target/target-cache.js';
import { createOutboundIngress } from './ingress/serve-ingress.js';
import { LoopbackRefused } from './tcp-forward.js';

export interface OutboundDeps {
  readonly config: Config;
  readonly origDst: OrigDstSource;
  readonly metrics: Metrics;
  readonly tracker: ConnectionTracker;
  readonly log: Logger;
  readonly credentials: () => Credentials | undefined;
  /** OutboundPolicies.Watch; undefined ⇒ every target is forwarded to its original destination. */
  readonly policyClient?: OutboundPolicyClient | undefined;
  /** Destination.Get (balancers) and GetProfile (DESTINATION_PROFILE_NETWORKS). */
  readonly destinationClient?: DestinationClient | undefined;
  /** Test-only: permit loopback original destinations and endpoints. */
  readonly allowLoopback?: boolean;
  /** Source address of endpoint connections (see EndpointConnectorOptions.sourceIp). */
  readonly sourceIp?: string;
}

export interface OutboundHandler {
  readonly handle: (socket: net.Socket) => void;
  readonly targets: OutboundTargets;
  /** Stops discovery and closes pooled upstream connections (after the drain). */
  close(): void;
}

const TARGET_CACHE_LIMIT = 10_000;

/** Returns the per-connection handler for the outbound listener(s). */
export function createOutboundHandler(deps: OutboundDeps): OutboundHandler {
  const { config, log } = deps;
  const outbound = config.outbound;
  const acceptOpts = socketOpts(outbound.server.keepaliveMs, outbound.server.userTimeoutMs);
  const rt: OutboundRuntime = {
    config: outbound,
    localIps: new Set(config.inbound.ips ?? []),
    metrics: deps.metrics,
    log,
    credentials: deps.credentials,
    track: (s) => deps.tracker.add(s),
  };
  const allowLoopback = deps.allowLoopback === true;
  const connector: EndpointConnector = createEndpointConnector(rt, { allowLoopback, ...(deps.sourceIp !== undefined ? { sourceIp: deps.sourceIp } : {}) });
  const profileNetworks = config.controlPlane.profileNetworks;
  const targets = createOutboundTargets({
    rt,
    policyClient: deps.policyClient,
    destinationClient: deps.destinationClient,
    profiles:
      deps.destinationClient !== undefined && profileNetworks.length > 0
        ? { source: deps.destinationClient, wanted: makeNetworkMatcher(profileNetworks) }
        : undefined,
  });
  const http1 = new OutboundHttp1(rt, connector);
  const http2 = new OutboundHttp2(rt, connector, { http1 });
  // Ingress mode: HTTP requests are routed by l5d-dst-override (src/outbound/ingress).
  const ingress = outbound.ingressMode
    ? createOutboundIngress({
        rt,
        connector,
        http1,
        targets,
        policyClient: deps.policyClient,
        destinationClient: deps.destinationClient,
        profileSuffixes: config.controlPlane.profileSuffixes,
        serveHttp2: (socket, target, select) => http2.serve(socket, target, EMPTY, select),
      })
    : undefined;
  const acceptHandles = new BoundedCache<string, TcpLabelsHandle>(TARGET_CACHE_LIMIT);
  const acceptHandle = (target: SocketAddr): TcpLabelsHandle =>
    acceptHandles.get(formatAddr(target), () => deps.metrics.tcp.bind(outboundAcceptLabels({ ip: target.host, port: target.port })));

  const handle = (socket: net.Socket): void => {
    const addr = acceptWithOrigDst(socket, deps, acceptOpts);
    if (addr === undefined) return;
    acceptHandle(addr).track(socket);
    // Named targets never dial the original destination, so a loopback one is not refused here
    // (the connector still refuses loopback endpoints).
    if (ingress !== undefined) return ingress.handle(socket, addr);
    if (!allowLoopback && isLoopbackIp(addr.host)) {
      log.info('Connection closed', { error: new LoopbackRefused().message, client: socket.remoteAddress });
      socket.resetAndDestroy();
      return;
    }
    const target = targets.get(addr);
    void serveConnection(socket, target).catch((err: unknown) => {
      // Each stage handles its own failures; this only keeps one bad connection from the process.
      log.error('outbound connection failed', { error: messageOf(err), target: formatAddr(addr) });
      socket.destroy();
    });
  };

  async function serveConnection(socket: net.Socket, target: OutboundTarget): Promise<void> {
    const release = target.hold();
    try {
      let policy: OutboundPolicy;
      try {
        policy = await target.ready();
      } catch (err) {
        log.info('Connection closed', { error: messageOf(err), client: socket.remoteAddress, target: formatAddr(target.origDst) });
        socket.resetAndDestroy();
        return;
      }
      if (socket.destroyed) return;
      const p = policy.protocol;
      switch (p.kind) {
        case 'http1':
          return await http1.serve(socket, target, EMPTY);
        case 'detect': {
          const d = await detectOutboundHttp(socket, { timeoutMs: p.timeoutMs, log });
          switch (d.kind) {
            case 'http1':
              return await http1.serve(socket, target, EMPTY);
            case 'eof':
              socket.end();
              return;
            case 'closed':
              return;
            case 'h2':
              return await http2.serve(socket, target, EMPTY);
            case 'opaque':
              return await serveOutboundOpaque(socket, target, connector, rt);
          }
          return;
        }
        case 'http2':
        case 'grpc':
          return await http2.serve(socket, target, EMPTY);
        case 'opaque':
          return await serveOutboundOpaque(socket, target, connector, rt);
        case 'tls':
          return await serveTlsPassthrough(socket, target);
      }
    } finally {
      release();
    }
  }

  /** Protocol Tls: the ClientHello's SNI picks the route; the TLS session itself passes through untouched. */
  async function serveTlsPassthrough(socket: net.Socket, target: OutboundTarget): Promise<void> {
    let sni: string | undefined;
    try {
      const d = await detectTls(socket, { timeoutMs: outbound.detectTimeoutMs });
      if (d.result.kind !== 'client-hello') {
        log.info('Connection closed', { error: 'expected a TLS ClientHello', client: socket.remoteAddress, target: formatAddr(target.origDst) });
        socket.resetAndDestroy();
        return;
      }
      sni = d.result.sni;
    } catch (err) {
      log.info('Connection closed', { error: messageOf(err), client: socket.remoteAddress, target: formatAddr(target.origDst) });
      socket.destroy();
      return;
    }
    await serveOutboundOpaque(socket, target, connector, rt, { routeOf: (policy) => tlsRouteFor(policy, sni) });
  }

  return {
    handle,
    targets,
    close() {
      ingress?.close();
      targets.close();
      http2.close();
      http1.close();
    },
  };
}

const EMPTY = Buffer.alloc(0);
