// One shared HTTP/2 connection per endpoint (spec §5.8): opened on demand through the endpoint
// connector, replaced after it closes or receives GOAWAY, closed after a while without streams.
import http2 from 'node:http2';
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import type { Logger } from '../../log/logger.js';
import type { EndpointConnection, EndpointConnector, EndpointSession } from '../context.js';

const HTTP2: EndpointSession = Object.freeze({ kind: 'http2' });

export interface H2EndpointOptions {
  readonly connector: EndpointConnector;
  readonly clock: Clock;
  readonly log: Logger;
  /** A session without streams for this long is closed (the next request reconnects). */
  readonly idleTimeoutMs: number;
  readonly initialStreamWindowSize: number;
  readonly initialConnectionWindowSize: number;
  /** Sees every new connection (transport metrics, shutdown tracking). */
  readonly onConnected: (conn: EndpointConnection) => void;
  /** The endpoint has no session and no streams any more: the owner may forget it. */
  readonly onIdle: (ep: H2Endpoint) => void;
}

/** Sessions that must not take new streams: closed, destroyed, or told to go away. */
function usable(s: http2.ClientHttp2Session): boolean {
  return !s.closed && !s.destroyed && !goneAway.has(s);
}

const goneAway = new WeakSet<http2.ClientHttp2Session>();

export class H2Endpoint {
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session> | undefined;
  /** Streams open over any of this endpoint's sessions. */
  private streams = 0;
  private cancelIdle: (() => void) | undefined;
  private closed = false;

  constructor(
    /** The pool key (address, identity, SNI, protocol). */
    readonly key: string,
    readonly endpoint: DestinationEndpoint,
    private readonly opts: H2EndpointOptions,
  ) {}

  /** The session new streams go to, if one is up. */
  current(): http2.ClientHttp2Session | undefined {
    const s = this.session;
    return s !== undefined && usable(s) ? s : undefined;
  }

  /** The current session, or a new one once it is established; rejects with the connect error. */
  acquire(): Promise<http2.ClientHttp2Session> {
    const s = this.current();
    if (s !== undefined) return Promise.resolve(s);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  streamOpened(): void {
    this.streams++;
    this.cancelIdle?.();
    this.cancelIdle = undefined;
  }

  streamClosed(): void {
    if (--this.streams === 0) this.armIdle();
  }

  close(): void {
    this.closed = true;
    this.cancelIdle?.();
    this.cancelIdle = undefined;
    const s = this.session;
    this.session = undefined;
    if (s !== undefined && !s.destroyed) s.destroy();
  }

  private async connect(): Promise<http2.ClientHttp2Session> {
    if (this.closed) throw new Error('HTTP/2 client closed');
    const conn = await this.opts.connector.connect(this.endpoint, HTTP2);
    this.opts.onConnected(conn);
    const session = await this.handshake(conn.socket);
    if (this.closed) {
      session.destroy();
      throw new Error('HTTP/2 client closed');
    }
    this.session = session;
    if (this.streams === 0) this.armIdle();
    return session;
  }

  private handshake(socket: net.Socket): Promise<http2.ClientHttp2Session> {
    const { opts, endpoint } = this;
    return new Promise((resolve, reject) => {
      // Mesh TLS offers no ALPN: the peer proxy detects HTTP/2 from the connection preface.
      const session = http2.connect(`http://${endpoint.key}`, {
        createConnection: () => socket,
        settings: { enablePush: false, initialWindowSize: opts.initialStreamWindowSize },
      });
      let settled = false;
      session.once('connect', () => {
        settled = true;
        try {
          session.setLocalWindowSize(Math.max(opts.initialConnectionWindowSize, 65535));
        } catch {
          // A session that died meanwhile fails its first stream instead.
        }
        resolve(session);
      });
      session.on('error', (err: unknown) => {
        if (!settled) {
          settled = true;
          reject(err instanceof Error ? err : new Error(String(err)));
        } else if (opts.log.enabled('debug')) {
          opts.log.debug('HTTP/2 endpoint connection failed', { endpoint: endpoint.key, error: messageOf(err) });
        }
      });
      session.once('goaway', () => {
        goneAway.add(session);
        this.forget(session);
      });
      session.once('close', () => {
        if (!settled) {
          settled = true;
          reject(new Error('HTTP/2 connection closed during its handshake'));
        }
        this.forget(session);
      });
    });
  }

  private forget(session: http2.ClientHttp2Session): void {
    if (this.session !== session) return;
    this.session = undefined;
    if (this.streams === 0) this.idleNow();
  }

  private armIdle(): void {
    if (this.cancelIdle !== undefined) return;
    this.cancelIdle = this.opts.clock.setTimer(this.opts.idleTimeoutMs, () => {
      this.cancelIdle = undefined;
      if (this.streams > 0) return;
      const s = this.session;
      this.session = undefined;
      s?.close();
      this.idleNow();
    });
  }

  private idleNow(): void {
    if (this.session === undefined && this.connecting === undefined && this.streams === 0) this.opts.onIdle(this);
  }
}
