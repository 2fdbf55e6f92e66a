// Ingress mode (LINKERD2_PROXY_INGRESS_MODE): every outbound connection is HTTP-detected; HTTP/1
// requests and HTTP/2 streams are routed per request by l5d-dst-override, anything else by original destination.
import type net from 'node:net';
import { dnsSuffixesContain } from '../../config/dns-name.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { FALLBACK_META } from '../../discovery/outbound-fallback.js';
import { serveHttp1, type ServeHttp1Options } from '../../http/h1/index.js';
import { formatAddr, type SocketAddr } from '../../transport/addr.js';
import type { EndpointConnector, OutboundRuntime, OutboundTarget } from '../context.js';
import type { ConnectionDeps } from '../http/connection.js';
import { detectOutboundHttp } from '../http/detect.js';
import type { OutboundHttp1 } from '../http/serve-http1.js';
import type { H2StreamSelector } from '../h2/serve-h2.js';
import { serveOutboundOpaque } from '../opaque/serve-opaque.js';
import type { EndpointSource } from '../target/dispatchers.js';
import { DiscoveryRequiredError } from '../target/errors.js';
import type { PolicySource, ProfileSource } from '../target/outbound-target.js';
import { createOutboundTargets, type OutboundTargets } from '../target/target-cache.js';
import { IngressHttp1Connection, type IngressHttp1Deps } from './ingress-http1.js';
import { IngressHttp2Streams } from './ingress-h2.js';

export interface OutboundIngressOptions {
  readonly rt: OutboundRuntime;
  readonly connector: EndpointConnector;
  /** The proxy's HTTP/1 side: its endpoint clients, pools and in-flight limit are shared. */
  readonly http1: OutboundHttp1;
  /** Targets by original destination (the sidecar's cache): fallbacks and requests without the header. */
  readonly targets: OutboundTargets;
  /** OutboundPolicies.Watch, asked by authority for named targets. */
  readonly policyClient?: PolicySource | undefined;
  /** Destination.Get for balancers, and GetProfile by name for names under `profileSuffixes`. */
  readonly destinationClient?: (EndpointSource & ProfileSource) | undefined;
  /** DESTINATION_PROFILE_SUFFIXES. */
  readonly profileSuffixes: readonly string[];
  /**
   * The outbound HTTP/2 server, for HTTP/2 from the app: `select` picks each stream's target
   * (OutboundHttp2.serve's selector); `target` is the connection's original destination.
   */
  readonly serveHttp2: (socket: net.Socket, target: OutboundTarget, select: H2StreamSelector) => Promise<void>;
  readonly clock?: Clock;
  readonly random?: () => number;
}

export interface OutboundIngress {
  /** Serves one accepted connection whose original destination is `origDst`. */
  handle(socket: net.Socket, origDst: SocketAddr): void;
  /** Targets by name (l5d-dst-override), shared by every connection and idle-evicted. */
  readonly named: OutboundTargets;
  close(): void;
}

const EMPTY = Buffer.alloc(0);

export function createOutboundIngress(opts: OutboundIngressOptions): OutboundIngress {
  const { rt, connector, targets } = opts;
  const log = rt.log.child('ingress');
  const clock = opts.clock ?? systemClock;
  const dst = opts.destinationClient;
  const suffixes = opts.profileSuffixes;
  const named = createOutboundTargets({
    rt,
    policyClient: opts.policyClient,
    destinationClient: dst,
    profiles: dst === undefined || suffixes.length === 0 ? undefined : { source: dst, wanted: () => false, wantedName: (n) => dnsSuffixesContain(suffixes, n) },
    clock,
    ...(opts.random !== undefined && { random: opts.random }),
  });
  const connection: ConnectionDeps = {
    ...opts.http1.shared,
    clock,
    ...(opts.random !== undefined ? { random: opts.random } : {}),
  };
  const deps: IngressHttp1Deps = { connection, named: (n) => named.getNamed(n), log };
  const serveOptions: ServeHttp1Options = {
    // Informational headers are off in ingress mode (spec §4.7).
    emitHeaders: !(rt.config.ingressMode || rt.config.disableInformationalHeaders),
    log: rt.log.child('http'),
    clock,
  };

  function serveHttp(socket: net.Socket, target: OutboundTarget): Promise<void> {
    const conn = new IngressHttp1Connection(deps, target, socket);
    socket.once('close', conn.clientClosed);
    return serveHttp1(socket, EMPTY, conn, serveOptions);
  }

  /** Upstream resolves fallbacks with the ingress resolver too: an address without a policy is refused. */
  async function discovered(socket: net.Socket, target: OutboundTarget): Promise<boolean> {
    let error: string | undefined;
    try {
      const policy = await target.ready();
      if (policy.meta === FALLBACK_META) error = new DiscoveryRequiredError(formatAddr(target.origDst)).message;
    } catch (err) {
      error = messageOf(err);
    }
    if (error === undefined) return !socket.destroyed;
    log.info('Connection closed', { error, client: socket.remoteAddress, target: formatAddr(target.origDst) });
    socket.destroy();
    return false;
  }

  async function serve(socket: net.Socket, target: OutboundTarget): Promise<void> {
    // Detection first, whatever the policy says (upstream's ingress stack never consults it for that).
    const d = await detectOutboundHttp(socket, { timeoutMs: rt.config.detectTimeoutMs, clock, log });
    switch (d.kind) {
      case 'http1':
        return serveHttp(socket, target);
      case 'eof':
        socket.end();
        return;
      case 'closed':
        return;
      case 'h2': {
        // Served as HTTP/2 whatever the policy's protocol, as upstream, each stream by its own target.
        const streams = new IngressHttp2Streams(deps.named, target);
        try {
          await opts.serveHttp2(socket, target, streams);
        } finally {
          streams.clientClosed();
        }
        return;
      }
      case 'opaque':
        if (await discovered(socket, target)) await serveOutboundOpaque(socket, target, connector, rt);
        return;
    }
  }

  return {
    named,
    handle(socket, origDst) {
      const target = targets.get(origDst);
      const release = target.hold();
      void serve(socket, target)
        .catch((err: unknown) => {
          log.error('outbound ingress connection failed', { error: messageOf(err), target: formatAddr(origDst) });
          socket.destroy();
        })
        .finally(release);
    },
    close() {
      named.close();
    },
  };
}
