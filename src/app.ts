// Wires the proxy together: listeners, identity, admin, inbound and outbound; owns readiness and shutdown.
import type net from 'node:net';
import type { Registry } from 'prom-client';
import { ConnectionTracker } from './core/connection-tracker.js';
import { ServeGate } from './core/gate.js';
import { systemClock, type Clock } from './core/clock.js';
import { messageOf } from './core/errors.js';
import type { Config } from './config/types.js';
import { formatSocketAddr } from './config/index.js';
import type { IdentitySource } from './identity/types.js';
import { startSpireIdentity } from './identity/spire-client.js';
import { startLinkerdIdentity } from './identity/linkerd-identity.js';
import { identityChannel, type ChannelSetup } from './identity/identity-channel.js';
import type { LinkerdIdentityMode } from './config/types.js';
import { silentLogger, type Logger } from './log/logger.js';
import type { LogLevelControl } from './log/root-logger.js';
import { createMetrics, inboundAcceptLabels, type Metrics } from './metrics/index.js';
import { startAdminServer, type AdminServer } from './admin/server.js';
import { createInboundHandler } from './inbound/accept.js';
import { createPortPolicies } from './inbound/policy/index.js';
import { controlPlaneClients } from './discovery/clients.js';
import { createOutboundHandler } from './outbound/accept.js';
import { boundAddr, linuxOrigDst, listenTcp, type OrigDstSource, type SocketAddr } from './transport/index.js';
import { BUILD_INFO } from './version.js';

/** The OS and control-plane edges a caller may replace (tests, research, embedding). */
export interface ProxyEdges {
  /** Original destination of accepted connections; one source for both sides, or one each. */
  readonly origDst?: OrigDstSource | { readonly inbound: OrigDstSource; readonly outbound: OrigDstSource };
  /** Where our certificate comes from; default: SPIRE or Linkerd identity, per config. */
  readonly identity?: IdentitySource;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Drives /proxy-log-level; undefined ⇒ that endpoint answers 404. */
  readonly logLevel?: LogLevelControl;
  /** What /env.json reports. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly metrics?: Metrics;
  /**
   * Lets outbound dial loopback addresses, which a sidecar never does (the Rust proxy's
   * test-only `allow-loopback` build feature); for tests and demos on one host only.
   */
  readonly allowOutboundLoopback?: boolean;
  /**
   * Source address of outbound endpoint connections. On one host without redirection (several
   * "machines" on loopback addresses) peers must see this workload's IP, not 127.0.0.1, which
   * every inbound policy admits as the pod itself.
   */
  readonly outboundSourceIp?: string;
  /**
   * Makes the gRPC channel to a control-plane service (target, credentials, options); return
   * undefined to keep the default for that service. Today only the identity service is dialled.
   */
  readonly controlPlaneChannel?: (service: ControlPlaneService) => ChannelSetup | undefined;
  /**
   * false: no destination or policy discovery at all (every inbound port keeps the default
   * policy, every outbound target is forwarded to its original destination). Default true.
   */
  readonly discovery?: boolean;
}

export type ControlPlaneService = 'identity' | 'destination' | 'policy';

export interface RunningProxy {
  readonly inboundAddr: SocketAddr;
  readonly outboundAddrs: readonly SocketAddr[];
  readonly adminAddr: SocketAddr;
  readonly metrics: Metrics;
  readonly identity: IdentitySource;
  /** Resolves once the first certificate is installed and the listeners serve. */
  ready(): Promise<void>;
  /**
   * Stops accepting, lets open connections finish for up to the grace period, then cuts the
   * rest. Resolves when everything is closed. Idempotent.
   */
  shutdown(reason?: string): Promise<void>;
  /** Resolves when shutdown has completed (from any trigger, e.g. POST /shutdown). */
  readonly done: Promise<void>;
  /** Set when the proxy stopped because it could never serve (e.g. identity documents missing). */
  readonly fatalError: Error | undefined;
}

const WAITING_FOR_IDENTITY_EVERY_MS = 15_000;

export async function startProxy(config: Config, edges: ProxyEdges = {}): Promise<RunningProxy> {
  const clock = edges.clock ?? systemClock;
  const log = edges.logger ?? silentLogger;
  const metrics = edges.metrics ?? createMetrics({ buildInfo: BUILD_INFO, retainIdleMs: config.admin.metricsRetainIdleMs, clock });
  const { inboundOrigDst, outboundOrigDst } = origDstSources(edges.origDst);

  // Bind everything first so a bad address fails startup before anything else happens.
  const adminListener = await listenTcp(config.listeners.admin);
  const inboundListener = await listenTcp(config.listeners.inbound, backlogOf(config.inbound.server.backlog));
  const outboundListeners: net.Server[] = [];
  for (const addr of config.listeners.outbound) {
    outboundListeners.push(await listenTcp(addr, backlogOf(config.outbound.server.backlog)));
  }
  const listeners = [adminListener, inboundListener, ...outboundListeners];

  const identity = edges.identity ?? startIdentity(config, log.child('identity'), metrics, clock, edges.controlPlaneChannel);
  const tracker = new ConnectionTracker();
  const gate = new ServeGate();
  let ready = false;

  let shuttingDown: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const shutdown = (reason = 'shutdown requested'): Promise<void> => {
    shuttingDown ??= drainAndClose(reason);
    return shuttingDown;
  };

  // Admin connections count as inbound accepts, as in the Rust proxy.
  const adminAddr = boundAddr(adminListener);
  const adminConnHandle = metrics.tcp.bind(
    inboundAcceptLabels({ ip: adminAddr.host, port: adminAddr.port }, { kind: 'none', reason: 'no_tls_from_remote' }, {
      group: '',
      kind: 'default',
      name: config.inbound.policy.defaultPolicy,
    }),
  );
  const admin: AdminServer = startAdminServer({
    listen: adminListener,
    onConnection: (s) => adminConnHandle.track(s),
    metrics,
    readiness: { isReady: () => ready },
    logger: log.child('admin'),
    logLevel: edges.logLevel,
    env: edges.env ?? {},
    shutdown: {
      enabled: config.admin.shutdownEndpointEnabled,
      trigger: () => {
        log.info('Received shutdown via admin interface');
        void shutdown('admin');
      },
    },
  });

  // The control plane: policy and destination watches over mTLS (plaintext on loopback), unless
  // the embedder turned discovery off (then every port has the default policy).
  const controlPlane = edges.discovery === false ? undefined : controlPlaneClients(config, identity, { clock, logger: log.child('control') });
  const policies = createPortPolicies({ inbound: config.inbound, client: controlPlane?.inboundPolicy, log: log.child('inbound::policy') });

  const inboundAddr = boundAddr(inboundListener);
  const inbound = createInboundHandler({
    config,
    inboundPort: inboundAddr.port,
    origDst: inboundOrigDst,
    metrics,
    tracker,
    log: log.child('inbound'),
    credentials: () => identity.current(),
    policies,
  });
  const outbound = createOutboundHandler({
    config,
    origDst: outboundOrigDst,
    metrics,
    tracker,
    log: log.child('outbound'),
    credentials: () => identity.current(),
    policyClient: controlPlane?.outboundPolicy,
    destinationClient: controlPlane?.destination,
    allowLoopback: edges.allowOutboundLoopback === true,
    ...(edges.outboundSourceIp !== undefined ? { sourceIp: edges.outboundSourceIp } : {}),
  });
  inboundListener.on('connection', (s: net.Socket) => gate.admit(s, inbound.handle));
  for (const l of outboundListeners) l.on('connection', (s: net.Socket) => gate.admit(s, outbound.handle));
  for (const l of listeners) l.on('error', (err) => log.error('listener error', { error: messageOf(err) }));

  log.info(`Admin interface on ${formatSocketAddr(adminAddr)}`);
  log.info(`Inbound interface on ${formatSocketAddr(inboundAddr)}`);
  for (const l of outboundListeners) log.info(`Outbound interface on ${formatSocketAddr(boundAddr(l))}`);
  log.info('Tap DISABLED');
  log.info(`SNI is ${config.identity.serverName}`);
  log.info(`Local identity is ${config.identity.serverId.value}`);
  log.info(`Destinations resolved via ${formatSocketAddr(config.controlPlane.destination.addr)}`);

  // Like the Rust proxy: nothing is served until the first certificate is installed.
  const cancelWaitingLog = repeat(clock, WAITING_FOR_IDENTITY_EVERY_MS, () => log.warn('Waiting for identity to be initialized...'));
  const readyPromise = identity.ready().then((creds) => {
    cancelWaitingLog();
    if (shuttingDown !== undefined) return;
    log.info('Certified identity', { id: creds.serverId });
    ready = true;
    gate.open();
  });
  let fatal: Error | undefined;
  readyPromise.catch((err: unknown) => {
    if (shuttingDown !== undefined) return;
    // Bad identity documents or a Workload API that refuses us for good: nothing can ever be
    // served, so stop (exit 1 from the CLI) instead of waiting forever.
    fatal = err instanceof Error ? err : new Error(String(err));
    log.error(`identity failed: ${messageOf(err)}`);
    void shutdown('identity failed');
  });

  async function drainAndClose(reason: string): Promise<void> {
    log.info(`starting shutdown: ${reason}`);
    cancelWaitingLog();
    // Stop accepting: close() refuses new connections but leaves accepted ones alone.
    for (const l of [inboundListener, ...outboundListeners]) l.close();
    gate.discard();
    const adminClosed = admin.close();
    const grace = new Promise<'timeout'>((resolve) => clock.setTimer(config.shutdownGracePeriodMs, () => resolve('timeout')));
    const outcome = await Promise.race([tracker.drained().then(() => 'drained' as const), grace]);
    if (outcome === 'timeout') {
      log.warn(`Graceful shutdown did not complete in ${config.shutdownGracePeriodMs}ms, terminating now`);
      tracker.destroyAll();
    }
    inbound.close();
    outbound.close();
    policies.close();
    controlPlane?.close();
    identity.close();
    await Promise.race([adminClosed, clock.sleep(1000)]);
    log.info('shutdown complete');
    resolveDone();
  }

  return {
    inboundAddr,
    outboundAddrs: outboundListeners.map(boundAddr),
    adminAddr,
    metrics,
    identity,
    ready: () => readyPromise,
    shutdown,
    done,
    get fatalError() {
      return fatal;
    },
  };
}

function startIdentity(
  config: Config,
  log: Logger,
  metrics: Metrics,
  clock: Clock,
  channels: ProxyEdges['controlPlaneChannel'],
): IdentitySource {
  const id = config.identity;
  const common = {
    serverId: id.serverId.value,
    serverName: id.serverName,
    trustAnchorsPem: id.trustAnchorsPem,
    logger: log,
    // prom-client's typings tie a registry to its content type; metrics register the same either way.
    registry: metrics.registry as unknown as Registry,
    clock,
  };
  const mode = id.mode;
  if (mode.kind === 'spire') {
    return startSpireIdentity({ ...common, socketPath: mode.workloadApiAddress, backoff: mode.backoff });
  }
  return startLinkerdIdentity({
    ...common,
    svcAddr: mode.svc.addr,
    svcTls: mode.svc.tls,
    dir: mode.dir,
    tokenFile: mode.tokenFile,
    minRefreshMs: mode.minRefreshMs,
    maxRefreshMs: mode.maxRefreshMs,
    ...(channels !== undefined ? { channel: () => channels('identity') ?? defaultIdentityChannel(mode, id.trustAnchorsPem) } : {}),
  });
}

function defaultIdentityChannel(mode: LinkerdIdentityMode, trustAnchorsPem: string): ChannelSetup {
  return identityChannel(mode.svc.addr, mode.svc.tls, trustAnchorsPem);
}

function origDstSources(o: ProxyEdges['origDst']): { inboundOrigDst: OrigDstSource; outboundOrigDst: OrigDstSource } {
  if (o === undefined) {
    const linux = linuxOrigDst();
    return { inboundOrigDst: linux, outboundOrigDst: linux };
  }
  if ('lookup' in o) return { inboundOrigDst: o, outboundOrigDst: o };
  return { inboundOrigDst: o.inbound, outboundOrigDst: o.outbound };
}

function backlogOf(backlog: number | undefined): { backlog?: number } {
  return backlog === undefined ? {} : { backlog };
}

/** Runs fn every ms until cancelled. */
function repeat(clock: Clock, ms: number, fn: () => void): () => void {
  let cancel = clock.setTimer(ms, tick);
  let stopped = false;
  function tick(): void {
    if (stopped) return;
    fn();
    cancel = clock.setTimer(ms, tick);
  }
  return () => {
    stopped = true;
    cancel();
  };
}
