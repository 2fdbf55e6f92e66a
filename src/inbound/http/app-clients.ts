// Connections to the local app, shared by every inbound connection: per app address (the
// original destination) an HTTP/1 pool (targets keyed by logical name, spec §4.2) and one
// multiplexed HTTP/2 session.
import http2 from 'node:http2';
import type net from 'node:net';
import { BoundedCache } from '../../core/bounded-cache.js';
import { messageOf } from '../../core/errors.js';
import { Http1Pool, type UpstreamTarget } from '../../http/h1/index.js';
import type { Logger } from '../../log/logger.js';
import { inboundConnectLabels, type TcpLabelsHandle } from '../../metrics/index.js';
import { connectTcp, formatAddr, type SocketAddr } from '../../transport/index.js';
import type { InboundRuntime } from '../context.js';
import { InboundLoopError, appAddr } from '../tcp-forward.js';

const TARGETS_PER_ADDR = 1000;

/** Everything that talks to one app address. */
export class AppEndpoint {
  readonly addr: SocketAddr;
  readonly pool: Http1Pool;
  private readonly targets = new BoundedCache<string, UpstreamTarget>(TARGETS_PER_ADDR);
  private session: http2.ClientHttp2Session | undefined;
  private pendingSession: Promise<http2.ClientHttp2Session> | undefined;
  private closed = false;
  /** Bound once: every pooled target connects the same way. */
  readonly connect: () => Promise<net.Socket>;

  constructor(
    private readonly owner: AppClients,
    addr: SocketAddr,
  ) {
    const cfg = owner.rt.config.connect;
    this.addr = addr;
    this.pool = new Http1Pool({
      maxIdlePerKey: cfg.http1Pool.maxIdlePerEndpoint,
      idleTimeoutMs: cfg.http1Pool.idleTimeoutMs,
    });
    this.connect = () => owner.connectApp(this.addr);
  }

  /** The pooled target for a logical name ('' when the request has none). */
  target(logical: string): UpstreamTarget {
    return this.targets.get(logical, () => ({ key: `${formatAddr(this.addr)}|${logical}`, connect: this.connect }));
  }

  /** The shared HTTP/2 session to the app, connecting (again) when there is none. */
  h2Session(): http2.ClientHttp2Session | Promise<http2.ClientHttp2Session> {
    const s = this.session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    this.session = undefined;
    this.pendingSession ??= this.openSession().finally(() => {
      this.pendingSession = undefined;
    });
    return this.pendingSession;
  }

  close(): void {
    this.closed = true;
    this.pool.close();
    this.session?.destroy();
    this.session = undefined;
  }

  private async openSession(): Promise<http2.ClientHttp2Session> {
    const socket = await this.connect();
    if (this.closed) {
      socket.destroy();
      throw new Error('inbound HTTP client closed');
    }
    const h2 = this.owner.rt.config.connect.http2;
    const session = http2.connect(`http://${formatAddr(this.addr)}`, {
      createConnection: () => socket,
      settings: { initialWindowSize: h2.initialStreamWindowSize, enablePush: false },
    });
    const log = this.owner.log;
    session.on('error', (err) => {
      if (log.enabled('debug')) log.debug('HTTP/2 app connection failed', { error: messageOf(err), addr: formatAddr(this.addr) });
    });
    const forget = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on('close', forget);
    // After GOAWAY no new streams may start on it; the next request reconnects.
    session.on('goaway', forget);
    session.once('connect', () => {
      if (h2.initialConnectionWindowSize > 65_535) session.setLocalWindowSize(h2.initialConnectionWindowSize);
    });
    // Idle sessions must not keep the process alive; requests in flight hold their own handles.
    session.unref();
    this.session = session;
    return session;
  }
}

/**
 * One per runtime: the app addresses the inbound side has talked to. A workload has a few IPs
 * and ports, and only connections redirected to it get here, so the map stays small.
 */
export class AppClients {
  readonly log: Logger;
  // Port, then IP: a lookup per request without building a key string.
  private readonly endpoints = new Map<number, Map<string, AppEndpoint>>();
  private readonly connectMetrics: TcpLabelsHandle;

  constructor(readonly rt: InboundRuntime) {
    this.log = rt.log;
    this.connectMetrics = rt.metrics.tcp.bind(inboundConnectLabels());
  }

  /** The clients for the app a connection to `origDst` reaches (dialled at that very address). */
  endpoint(origDst: SocketAddr): AppEndpoint {
    let byHost = this.endpoints.get(origDst.port);
    if (byHost === undefined) {
      byHost = new Map();
      this.endpoints.set(origDst.port, byHost);
    }
    let e = byHost.get(origDst.host);
    if (e === undefined) {
      e = new AppEndpoint(this, appAddr(origDst));
      byHost.set(origDst.host, e);
    }
    return e;
  }

  /** Connects to the app (INBOUND_CONNECT_TIMEOUT and socket options); never to the inbound port. */
  async connectApp(addr: SocketAddr): Promise<net.Socket> {
    if (addr.port === this.rt.inboundPort) throw new InboundLoopError(this.rt.inboundPort);
    const c = this.rt.config.connect;
    const socket = await connectTcp(addr, {
      timeoutMs: c.timeoutMs,
      ...(c.keepaliveMs !== undefined ? { keepaliveMs: c.keepaliveMs } : {}),
      ...(c.userTimeoutMs !== undefined ? { userTimeoutMs: c.userTimeoutMs } : {}),
      log: this.log,
    });
    this.connectMetrics.track(socket);
    this.rt.track(socket);
    return socket;
  }

  close(): void {
    for (const byHost of this.endpoints.values()) for (const e of byHost.values()) e.close();
    this.endpoints.clear();
  }
}
