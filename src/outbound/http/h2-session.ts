// One shared HTTP/2 connection per endpoint (spec §5.8): opened on demand through the endpoint
// connector, reconnected with backoff while requests wait for it (up to the failfast timeout, as
// upstream's Reconnect under the balancer queue) and, while balancer endpoints watch it, in the
// background once a connect failed (they leave the ready set until one succeeds); replaced after
// it closes or receives GOAWAY (at once while watched), closed after a while without streams.
import http2 from 'node:http2';
import type net from 'node:net';
import { ExpBackoff, type BackoffConfig } from '../../core/backoff.js';
import type { Endpoint, EndpointRemovalListener } from '../../balance/index.js';
import type { Clock } from '../../core/clock.js';
import { ProxyError, messageOf } from '../../core/errors.js';
import { DEFAULTS } from '../../config/defaults.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import type { Logger } from '../../log/logger.js';
import type { EndpointConnection, EndpointConnector, EndpointSession } from '../context.js';
import { LoopbackRefusedError } from '../endpoint/errors.js';

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
  /** OUTBOUND_CONNECT_EXP_BACKOFF_*: the delay between failed connects; default the proxy's default. */
  readonly backoff?: BackoffConfig;
  /** How long a request waits for a session that cannot connect (the HTTP queue's failfast); default 3s. */
  readonly connectWaitMs?: number;
  /** Backoff jitter (tests). */
  readonly random?: () => number;
}

/**
 * No session could be established while a request waited for one. 504 / DEADLINE_EXCEEDED, as
 * the fail-fast of upstream's queue in front of an endpoint that never became ready.
 */
export class H2ConnectFailFastError extends ProxyError {
  constructor(endpoint: string, cause: unknown) {
    super(`service in fail-fast: ${cause === undefined ? `still connecting to ${endpoint}` : messageOf(cause)}`, 'connect-timeout', 'upstream', { cause });
  }
}

const CLIENT_CLOSED = 'HTTP/2 client closed';

/** Loopback refusals and a closed client never change; anything else (TCP, TLS, handshake) may, as upstream's AlwaysReconnect assumes. */
function retryable(err: unknown): boolean {
  return !(err instanceof LoopbackRefusedError) && !(err instanceof Error && err.message === CLIENT_CLOSED);
}

interface Waiter {
  readonly resolve: (s: http2.ClientHttp2Session) => void;
  readonly reject: (err: unknown) => void;
  cancel: (() => void) | undefined;
}

/** Sessions that must not take new streams: closed, destroyed, or told to go away. */
function usable(s: http2.ClientHttp2Session): boolean {
  return !s.closed && !s.destroyed && !goneAway.has(s);
}

const goneAway = new WeakSet<http2.ClientHttp2Session>();

type Watcher = Endpoint<DestinationEndpoint>;

export class H2Endpoint implements EndpointRemovalListener<DestinationEndpoint> {
  private session: http2.ClientHttp2Session | undefined;
  /** The connect loop runs while requests wait for a session, or while it is down and watched. */
  private connecting = false;
  /** Balancer endpoints told whether this endpoint can connect (setConnected), until they are removed. */
  private readonly watchers = new Set<Watcher>();
  /** The last connect attempt failed (retryably) and none has succeeded since. */
  private down = false;
  private readonly waiters = new Set<Waiter>();
  private lastError: unknown;
  /** Streams open over any of this endpoint's sessions. */
  private streams = 0;
  private cancelIdle: (() => void) | undefined;
  private closed = false;

  constructor(
    /** The pool key (address, identity, SNI, protocol). */
    readonly key: string,
    readonly endpoint: DestinationEndpoint,
    private readonly opts: H2EndpointOptions,
  ) {
    // One made for a request that then never used it is still forgotten.
    this.armIdle();
  }

  /** The session new streams go to, if one is up. */
  current(): http2.ClientHttp2Session | undefined {
    const s = this.session;
    return s !== undefined && usable(s) ? s : undefined;
  }

  /**
   * The current session, or a new one once it is established. Failed connects are retried with
   * the connect backoff while someone waits; a waiter gives up after `waitMs` (default
   * `connectWaitMs`) with H2ConnectFailFastError, or at once on an error that retrying cannot fix.
   */
  acquire(waitMs: number = this.opts.connectWaitMs ?? DEFAULTS.outboundHttpFailfastTimeoutMs): Promise<http2.ClientHttp2Session> {
    const s = this.current();
    if (s !== undefined) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, cancel: undefined };
      this.waiters.add(w);
      w.cancel = this.opts.clock.setTimer(waitMs, () => {
        if (!this.waiters.delete(w)) return;
        reject(new H2ConnectFailFastError(this.endpoint.key, this.lastError));
      });
      if (!this.connecting) void this.connectLoop();
    });
  }

  /**
   * `ep` follows this endpoint's connectivity: not connected (out of its balancer's rotation)
   * while connects fail, connected again once one succeeds. Cheap when already watching (called
   * per request); the watch ends when `ep` is removed or this endpoint is closed or evicted.
   */
  watch(ep: Watcher): void {
    if (this.watchers.has(ep) || this.closed || ep.removed) return;
    this.watchers.add(ep);
    ep.addRemovalListener(this);
    if (this.down) ep.setConnected(false);
  }

  /** Whether the last connect attempt failed (and reconnecting goes on). */
  get isDown(): boolean {
    return this.down;
  }

  endpointRemoved(ep: Watcher): void {
    this.watchers.delete(ep);
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
    this.unwatchAll();
    this.cancelIdle?.();
    this.cancelIdle = undefined;
    this.settle(undefined, new Error(CLIENT_CLOSED));
    const s = this.session;
    this.session = undefined;
    if (s !== undefined && !s.destroyed) s.destroy();
  }

  /**
   * Connects until a session is up, nobody waits and no balancer endpoint watches any more, or an
   * error retrying cannot fix.
   */
  private async connectLoop(): Promise<void> {
    this.connecting = true;
    this.lastError = undefined;
    const backoff = new ExpBackoff(this.opts.backoff ?? DEFAULTS.outboundConnectBackoff, this.opts.random);
    try {
      for (;;) {
        let session: http2.ClientHttp2Session;
        try {
          session = await this.connect();
        } catch (err) {
          this.lastError = err;
          if (!retryable(err)) return this.settle(undefined, err);
          this.setDown(true);
          if (!this.wanted()) return;
          const delay = backoff.next();
          if (this.opts.log.enabled('debug')) this.opts.log.debug('HTTP/2 connect failed; retrying', { endpoint: this.endpoint.key, error: messageOf(err), backoffMs: delay });
          await this.opts.clock.sleep(delay);
          if (!this.wanted() || this.closed) return;
          continue;
        }
        this.setDown(false);
        return this.settle(session, undefined);
      }
    } finally {
      this.connecting = false;
      this.idleNow();
    }
  }

  /** Someone still needs a session: a waiting request, or a balancer endpoint kept out of rotation. */
  private wanted(): boolean {
    return this.waiters.size > 0 || this.watchers.size > 0;
  }

  private setDown(down: boolean): void {
    if (this.down === down) return;
    this.down = down;
    for (const ep of this.watchers) ep.setConnected(!down);
  }

  /** Nobody follows this endpoint any more; endpoints it held out of rotation may be tried again. */
  private unwatchAll(): void {
    const down = this.down;
    this.down = false;
    for (const ep of this.watchers) {
      ep.removeRemovalListener(this);
      if (down) ep.setConnected(true);
    }
    this.watchers.clear();
  }

  private settle(session: http2.ClientHttp2Session | undefined, err: unknown): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) {
      w.cancel?.();
      if (session !== undefined) w.resolve(session);
      else w.reject(err);
    }
  }

  private async connect(): Promise<http2.ClientHttp2Session> {
    if (this.closed) throw new Error(CLIENT_CLOSED);
    const conn = await this.opts.connector.connect(this.endpoint, HTTP2);
    this.opts.onConnected(conn);
    const session = await this.handshake(conn.socket);
    if (this.closed) {
      session.destroy();
      throw new Error(CLIENT_CLOSED);
    }
    this.session = session;
    if (this.streams === 0) {
      // A full idle period from now, not from an earlier arming.
      this.cancelIdle?.();
      this.cancelIdle = undefined;
      this.armIdle();
    }
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
    // A lost connection (not an idle close) to a watched endpoint is replaced at once, so a peer
    // that went away leaves the rotation on the first failed reconnect rather than a request's.
    if (this.watchers.size > 0 && !this.closed && !this.connecting) void this.connectLoop();
    else if (this.streams === 0) this.idleNow();
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
    if (this.session === undefined && !this.connecting && this.waiters.size === 0 && this.streams === 0) {
      this.unwatchAll();
      this.opts.onIdle(this);
    }
  }
}
