// The outbound HTTP/2 server: an app connection speaking HTTP/2 with prior knowledge (h2c) is
// served per stream through the target's client policy (H2Exchange), with the endpoint clients,
// HTTP/2 sessions and in-flight limit of the proxy's HTTP/1 server.
import http2 from 'node:http2';
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { h2ServerOptions } from '../../http/h2-server-options.js';
import { formatAddr } from '../../transport/index.js';
import type { EndpointConnector, OutboundRuntime, OutboundTarget } from '../context.js';
import { outboundHttp1, type OutboundHttp1 } from '../http/serve-http1.js';
import type { H2ConnectionContext, H2Deps } from './deps.js';
import { H2Exchange } from './exchange.js';

export interface OutboundHttp2Options {
  readonly clock?: Clock;
  /** For weighted backend choice and failure injection; default Math.random. */
  readonly random?: () => number;
  /** The HTTP/1 server whose clients and in-flight limit are shared; default outboundHttp1(rt, connector). */
  readonly http1?: OutboundHttp1;
}

/** One stream's target, as an H2StreamSelector chose it. */
export interface H2StreamTarget {
  readonly target: OutboundTarget;
  /** The authority of requests that name none. */
  readonly authority: string;
}

/**
 * Chooses each stream's target from its request headers (ingress mode's l5d-dst-override)
 * instead of the connection's. An Error resets the stream with INTERNAL_ERROR, as hyper's server
 * does when its service fails; the connection and its other streams go on.
 */
export interface H2StreamSelector {
  /** A request header (lower-case) removed from every stream before it is served. */
  readonly strip?: string;
  select(headers: http2.IncomingHttpHeaders): H2StreamTarget | Error | Promise<H2StreamTarget | Error>;
}

interface Pending {
  readonly target: OutboundTarget;
  readonly origDst: string;
  readonly select: H2StreamSelector | undefined;
  readonly done: () => void;
  attached: boolean;
}

export class OutboundHttp2 {
  private readonly deps: H2Deps;
  private readonly server: http2.Http2Server;
  private readonly contexts = new WeakMap<http2.Http2Session, H2ConnectionContext>();
  private readonly selectors = new WeakMap<http2.Http2Session, H2StreamSelector>();
  private readonly live = new Set<http2.ServerHttp2Session>();
  private pending: Pending | undefined;
  private connectionWindow: number | undefined;

  constructor(
    readonly rt: OutboundRuntime,
    connector: EndpointConnector,
    opts: OutboundHttp2Options = {},
  ) {
    const http1 = opts.http1 ?? outboundHttp1(rt, connector);
    // One set of clients, sessions, limits and metric families for both servers.
    this.deps = {
      ...http1.shared,
      ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
      ...(opts.random !== undefined ? { random: opts.random } : {}),
      // Informational headers go to the app unless disabled, or in ingress mode (spec §4.7).
      emitHeaders: !(rt.config.ingressMode || rt.config.disableInformationalHeaders),
      log: rt.log.child('h2'),
    };
    const cfg = rt.config.server.http2;
    if (cfg.flowControl.kind === 'fixed' && cfg.flowControl.initialConnectionWindowSize > 65_535) {
      this.connectionWindow = cfg.flowControl.initialConnectionWindowSize;
    }
    this.server = http2.createServer(h2ServerOptions(cfg));
    this.server.on('session', this.onSession);
    this.server.on('stream', this.onStream);
  }

  /**
   * Serves HTTP/2 on `client` until it closes; `initial` holds bytes already read from it (empty
   * after detectOutboundHttp, which puts what it read back). With `select`, each stream's target
   * is chosen per request (`target` still names the connection). Never rejects.
   */
  serve(client: net.Socket, target: OutboundTarget, initial: Buffer, select?: H2StreamSelector): Promise<void> {
    const release = target.hold();
    return new Promise<void>((resolve) => {
      if (client.destroyed) return resolve();
      if (initial.length > 0) client.unshift(initial);
      const p: Pending = { target, origDst: formatAddr(target.origDst), select, done: resolve, attached: false };
      this.pending = p;
      try {
        this.server.emit('connection', client);
        // Accepted sockets arrive paused; the session reads through the socket's handle.
        client.resume();
      } catch (err) {
        this.deps.log.info('HTTP/2 connection failed', { error: messageOf(err), client: client.remoteAddress });
        client.destroy();
      } finally {
        this.pending = undefined;
      }
      if (!p.attached) resolve();
    }).finally(release);
  }

  /** Closes every live app session (the shared endpoint clients close with the HTTP/1 server). */
  close(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
  }

  private readonly onSession = (session: http2.ServerHttp2Session): void => {
    const p = this.pending;
    if (p === undefined) {
      session.destroy();
      return;
    }
    p.attached = true;
    this.contexts.set(session, { target: p.target, origDst: p.origDst, session });
    if (p.select !== undefined) this.selectors.set(session, p.select);
    this.live.add(session);
    const log = this.deps.log;
    session.on('error', (err) => {
      if (log.enabled('debug')) log.debug('HTTP/2 connection failed', { error: messageOf(err) });
    });
    session.once('close', () => {
      this.live.delete(session);
      const socket = session.socket as net.Socket | undefined;
      if (socket !== undefined && !socket.destroyed) socket.destroy();
      p.done();
    });
    const w = this.connectionWindow;
    if (w !== undefined) {
      session.once('connect', () => {
        try {
          session.setLocalWindowSize(w);
        } catch {
          // The session died meanwhile.
        }
      });
    }
  };

  private readonly onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]): void => {
    stream.on('error', noop);
    const session = stream.session!;
    const ctx = this.contexts.get(session);
    if (ctx === undefined) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const select = this.selectors.get(session);
    if (select === undefined) {
      new H2Exchange(this.deps, ctx, stream, headers, flags, raw).run();
      return;
    }
    const chosen = select.select(headers);
    const strip = select.strip;
    const rest = strip !== undefined && headers[strip] !== undefined ? stripHeader(headers, raw, strip) : raw;
    if (isPromise(chosen)) {
      chosen.then(
        (c) => this.serveSelected(ctx, c, stream, headers, flags, rest),
        (err: unknown) => this.serveSelected(ctx, err instanceof Error ? err : new Error(messageOf(err)), stream, headers, flags, rest),
      );
    } else this.serveSelected(ctx, chosen, stream, headers, flags, rest);
  };

  private serveSelected(
    ctx: H2ConnectionContext,
    chosen: H2StreamTarget | Error,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    flags: number,
    raw: string[],
  ): void {
    // The app may have reset the stream while its target was being discovered.
    if (stream.closed || stream.destroyed) return;
    if (chosen instanceof Error) {
      this.deps.log.info('HTTP/2 stream reset', { error: chosen.message, client: ctx.session.socket?.remoteAddress });
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const { target } = chosen;
    if (target === ctx.target && chosen.authority === ctx.origDst) {
      new H2Exchange(this.deps, ctx, stream, headers, flags, raw).run();
      return;
    }
    // The stream keeps its target alive (a connection's own selections may be let go meanwhile).
    stream.once('close', target.hold());
    new H2Exchange(this.deps, { target, origDst: chosen.authority, session: ctx.session }, stream, headers, flags, raw).run();
  }
}

const shared = new WeakMap<OutboundRuntime, WeakMap<EndpointConnector, OutboundHttp2>>();

/** The one OutboundHttp2 of a runtime and connector (sharing outboundHttp1()'s clients). */
export function outboundHttp2(rt: OutboundRuntime, connector: EndpointConnector): OutboundHttp2 {
  let byConnector = shared.get(rt);
  if (byConnector === undefined) {
    byConnector = new WeakMap();
    shared.set(rt, byConnector);
  }
  let s = byConnector.get(connector);
  if (s === undefined) {
    s = new OutboundHttp2(rt, connector);
    byConnector.set(connector, s);
  }
  return s;
}

function noop(): void {}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/** `raw` without `name`'s entries, and `headers` without `name`. */
function stripHeader(headers: http2.IncomingHttpHeaders, raw: string[], name: string): string[] {
  delete headers[name];
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
