// Per-endpoint HTTP clients shared by every outbound connection: the HTTP/1 pool targets, the
// orig-proto (HTTP/2) targets with their shared sessions, and the bound metrics series.
import type net from 'node:net';
import type { Endpoint } from '../../balance/index.js';
import type { Clock } from '../../core/clock.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import { Http1Pool, type HeadEdits, type RequestHead, type ResponseHead, type UpstreamConnection, type UpstreamTarget } from '../../http/h1/index.js';
import { outboundConnectLabels, type TcpLabelsHandle, type TlsConnect } from '../../metrics/index.js';
import type { EndpointConnection, EndpointConnector, EndpointSession, OutboundRuntime } from '../context.js';
import { H2Endpoint } from './h2-session.js';
import { EndpointHttpMetrics, httpFamilies, outboundEndpointLabels, type HttpFamilies } from './metrics.js';
import { OrigProtoBridge, type BridgeEndpoint } from './orig-proto-bridge.js';

const HTTP1: EndpointSession = Object.freeze({ kind: 'http1' });

/** Requests never carry this upstream (spec §4.9). */
const REQUEST_STRIP: HeadEdits = Object.freeze({ remove: Object.freeze(['l5d-require-id']) });
/** A gateway endpoint gets the override as its authority; Host and the canonical name go. */
const REQUEST_STRIP_OVERRIDE: HeadEdits = Object.freeze({ remove: Object.freeze(['l5d-require-id', 'host', 'l5d-dst-canonical']) });
/** Responses from meshed peers lose the proxy's informational headers (spec §4.7). */
export const RESPONSE_STRIP: HeadEdits = Object.freeze({ remove: Object.freeze(['l5d-proxy-error', 'l5d-proxy-connection']) });

const LOOPBACK: TlsConnect = Object.freeze({ kind: 'none', reason: 'loopback' });
const NOT_PROVIDED: TlsConnect = Object.freeze({ kind: 'none', reason: 'not_provided_by_service_discovery' });

/**
 * A bridge is a virtual connection over a shared HTTP/2 session: there is no stale keep-alive
 * socket to race with, so the engine must never replay a request whose stream was reset (the
 * client gets the 502 instead, as upstream). Its connections are therefore never "reused".
 */
class BridgePool extends Http1Pool {
  override take(key: string): UpstreamConnection | undefined {
    const conn = super.take(key);
    if (conn !== undefined) conn.reused = false;
    return conn;
  }
}

/** One endpoint as reached through one backend (the authority label differs per backend). */
export class EndpointClient implements BridgeEndpoint {
  readonly tls: TlsConnect;
  /** mTLS with the discovered identity (the connector verifies it). */
  readonly meshed: boolean;
  readonly http1: UpstreamTarget;
  /** Set when HTTP/1 requests are upgraded to HTTP/2 (h2 hint, not a local endpoint). */
  readonly http2: UpstreamTarget | undefined;
  readonly metrics: EndpointHttpMetrics;
  readonly requestEdits: HeadEdits;
  readonly authorityOverride: string | undefined;
  readonly fallbackAuthority: string;
  /** Strips nothing itself (see RESPONSE_STRIP); decides whether to close the client connection. */
  readonly onResponseHead: (res: ResponseHead, req: RequestHead) => boolean;
  private readonly tcp: TcpLabelsHandle;
  private readonly h2Key: string;

  constructor(
    private readonly owner: OutboundHttpClients,
    readonly endpoint: DestinationEndpoint,
    /** The balanced backend's name; undefined for forward backends. */
    readonly authority: string | undefined,
    local: boolean,
  ) {
    const id = endpoint.tlsIdentity;
    this.meshed = id !== undefined && !local;
    this.tls = this.meshed ? { kind: 'established', serverId: id!.name } : local ? LOOPBACK : NOT_PROVIDED;
    const rt = owner.rt;
    this.metrics = new EndpointHttpMetrics(owner.families, outboundEndpointLabels(endpoint, this.tls, authority));
    this.tcp = rt.metrics.tcp.bind(
      outboundConnectLabels({ ip: endpoint.addr.host, port: endpoint.addr.port }, this.tls, { authority, dstLabels: endpoint.metricLabels }),
    );
    this.authorityOverride = endpoint.authorityOverride;
    this.fallbackAuthority = endpoint.key;
    this.requestEdits = endpoint.authorityOverride === undefined ? REQUEST_STRIP : REQUEST_STRIP_OVERRIDE;
    const key = `${endpoint.key}\u0000${id?.name ?? ''}\u0000${id?.serverName ?? ''}\u0000${endpoint.opaqueTransportPort ?? ''}\u0000${endpoint.authorityOverride ?? ''}`;
    this.http1 = { key: `http1\u0000${key}`, connect: () => this.connectHttp1() };
    this.h2Key = `h2\u0000${key}`;
    this.http2 = endpoint.protocolHint === 'h2' && !local ? { key: this.h2Key, connect: () => this.connectBridge() } : undefined;
    // Only a forward target reached over mTLS may close the app's connection for its peer (spec §4.7).
    const closable = authority === undefined && this.meshed;
    const log = rt.log;
    this.onResponseHead = (res) => {
      if (log.enabled('debug') && res.indexOfHeader('l5d-proxy-error') !== -1) {
        log.debug('Remote proxy error', { endpoint: endpoint.key, error: res.header('l5d-proxy-error') });
      }
      return closable && res.header('l5d-proxy-connection') === 'close';
    };
  }

  h2(): H2Endpoint {
    return this.owner.h2For(this.h2Key, this.endpoint, this);
  }

  /** The shared HTTP/2 connection, with `ep` kept out of its balancer's rotation while it cannot connect. */
  h2Watched(ep: Endpoint<DestinationEndpoint>): H2Endpoint {
    const h = this.owner.h2For(this.h2Key, this.endpoint, this);
    h.watch(ep);
    return h;
  }

  /** Transport metrics and shutdown tracking for a new connection to this endpoint. */
  connected(conn: EndpointConnection): void {
    const rt = this.owner.rt;
    rt.track(conn.socket);
    // Bytes count on the wire, TLS included.
    this.tcp.track(conn.tcp);
  }

  private async connectHttp1(): Promise<net.Socket> {
    const conn = await this.owner.connector.connect(this.endpoint, HTTP1);
    this.connected(conn);
    return conn.socket;
  }

  /** Waits for the endpoint's HTTP/2 session, so connect failures answer as connect errors. */
  private async connectBridge(): Promise<net.Socket> {
    await this.h2().acquire();
    return new OrigProtoBridge(this) as unknown as net.Socket;
  }
}

export interface OutboundHttpClientsOptions {
  readonly clock: Clock;
}

/** Pools, sessions and endpoint clients; one per outbound proxy, closed at shutdown. */
export class OutboundHttpClients {
  readonly families: HttpFamilies;
  readonly http1Pool: Http1Pool;
  readonly bridgePool: Http1Pool;
  private readonly sessions = new Map<string, H2Endpoint>();
  /** Endpoint values are immutable and reused by their balancer: one client per value and authority. */
  private readonly clients = new WeakMap<DestinationEndpoint, Map<string, EndpointClient>>();
  private isClosed = false;

  constructor(
    readonly rt: OutboundRuntime,
    readonly connector: EndpointConnector,
    private readonly opts: OutboundHttpClientsOptions,
  ) {
    this.families = httpFamilies(rt.metrics);
    const pool = rt.config.connect.http1Pool;
    this.http1Pool = new Http1Pool({ maxIdlePerKey: pool.maxIdlePerEndpoint, idleTimeoutMs: pool.idleTimeoutMs, clock: opts.clock });
    this.bridgePool = new BridgePool({ maxIdlePerKey: pool.maxIdlePerEndpoint, idleTimeoutMs: pool.idleTimeoutMs, clock: opts.clock });
  }

  client(endpoint: DestinationEndpoint, authority: string | undefined): EndpointClient {
    let byAuthority = this.clients.get(endpoint);
    if (byAuthority === undefined) {
      byAuthority = new Map();
      this.clients.set(endpoint, byAuthority);
    }
    const k = authority ?? '';
    let c = byAuthority.get(k);
    if (c === undefined) {
      c = new EndpointClient(this, endpoint, authority, this.rt.localIps.has(endpoint.addr.host));
      byAuthority.set(k, c);
    }
    return c;
  }

  /** The shared HTTP/2 connection manager for a key; created on first use, dropped when idle. */
  h2For(key: string, endpoint: DestinationEndpoint, client: EndpointClient): H2Endpoint {
    let h = this.sessions.get(key);
    if (h === undefined) {
      const rt = this.rt;
      const h2 = rt.config.connect.http2;
      const fc = endpoint.http2?.flowControl;
      h = new H2Endpoint(key, endpoint, {
        connector: this.connector,
        clock: this.opts.clock,
        log: rt.log,
        // Like the HTTP/1 pool: an unused connection to a peer goes after the idle timeout.
        idleTimeoutMs: Math.max(rt.config.connect.http1Pool.idleTimeoutMs, rt.config.discoveryIdleTimeoutMs),
        initialStreamWindowSize: fc?.kind === 'fixed' ? fc.initialStreamWindowSize : h2.initialStreamWindowSize,
        initialConnectionWindowSize: fc?.kind === 'fixed' ? fc.initialConnectionWindowSize : h2.initialConnectionWindowSize,
        onConnected: (conn) => client.connected(conn),
        // OUTBOUND_CONNECT_EXP_BACKOFF_* between attempts; a waiting request gives up at failfast.
        backoff: rt.config.connect.backoff,
        connectWaitMs: rt.config.httpQueue.failfastTimeoutMs,
        onIdle: (idle) => {
          if (this.sessions.get(idle.key) === idle) this.sessions.delete(idle.key);
        },
      });
      if (this.isClosed) {
        h.close();
        return h;
      }
      this.sessions.set(key, h);
    }
    return h;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Closes idle pooled connections and every HTTP/2 session; later requests fail to connect. */
  close(): void {
    this.isClosed = true;
    this.http1Pool.close();
    this.bridgePool.close();
    for (const h of this.sessions.values()) h.close();
    this.sessions.clear();
  }
}
