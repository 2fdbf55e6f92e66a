// The inbound HTTP/2 server: each stream is authorized against the port's current policy, then
// downgraded to HTTP/1 for the app when it carries `l5d-orig-proto` (spec §4.4), else forwarded
// as HTTP/2 on the app's shared session.
import http2 from 'node:http2';
import type { Clock } from '../../core/clock.js';
import { LOAD_SHED_RESPONSE, type InFlightLimit } from './in-flight.js';
import { messageOf } from '../../core/errors.js';
import type { Http2ServerConfig } from '../../config/types.js';
import { h2ServerOptions } from '../../http/h2-server-options.js';
import type { Logger } from '../../log/logger.js';
import { inboundRejection, isGrpcRequest } from '../../policy/inbound/index.js';
import type { InboundConnection, InboundRuntime } from '../context.js';
import type { AppClients } from './app-clients.js';
import type { ConnectionContext } from './connection-context.js';
import { H1Exchange } from './h1-exchange.js';
import { H2Request } from './h2-request.js';
import { H2Forward } from './h2-forward.js';
import { CLIENT_ID_HEADER, H2HeaderEdits, type OutgoingHeaders } from './header-edits.js';
import { ORIG_PROTO_HEADER, h1BodyMode, headersFromRaw, parseOrigProto, renderH1RequestHead, type OrigProto } from './orig-proto.js';
import { isForward, type HeaderSink, type PolicyGate } from './policy-gate.js';
import { H2RequestView, LogicalNames, type H2Headers } from './request-view.js';
import { respondH2 } from './synthetic.js';
import { inboundHttpFor } from './inbound-http.js';

const { NGHTTP2_FLAG_END_STREAM } = http2.constants;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const ABSOLUTE_FORM_KEY = '\u0000absolute-form';

/** Serves HTTP/2 on an inbound connection through the runtime's shared InboundHttp. */
export function serveInboundH2(conn: InboundConnection, rt: InboundRuntime, initial?: Buffer): Promise<void> {
  return inboundHttpFor(rt).serveH2(conn, initial);
}

export interface H2ServerDeps {
  readonly inFlight: InFlightLimit;
  readonly gate: PolicyGate;
  readonly app: AppClients;
  readonly log: Logger;
  readonly clock: Clock;
  readonly settings: Http2ServerConfig;
  /** Per-connection context (labels, client identity), shared with the HTTP/1 server. */
  readonly context: (conn: InboundConnection) => ConnectionContext;
}

/** One per runtime; connections are handed to it and served until they close. */
export class InboundH2Server {
  private readonly server: http2.Http2Server;
  private readonly sessions = new WeakMap<http2.Http2Session, H2Connection>();
  private readonly live = new Set<http2.ServerHttp2Session>();
  private pending: H2Connection | undefined;

  constructor(private readonly deps: H2ServerDeps) {
    this.server = http2.createServer(h2ServerOptions(deps.settings));
    this.server.on('session', this.onSession);
    this.server.on('stream', this.onStream);
  }

  /**
   * Serves HTTP/2 on `conn.stream` (its first bytes, the preface, may already be buffered in it).
   * Resolves when the connection is closed; never rejects.
   */
  serve(conn: InboundConnection): Promise<void> {
    return new Promise((resolve) => {
      const stream = conn.stream;
      if (stream.destroyed) return resolve();
      const c = new H2Connection(conn, this.deps, resolve);
      this.pending = c;
      try {
        emitConnection(this.server, stream);
      } catch (err) {
        this.deps.log.info('HTTP/2 connection failed', { error: messageOf(err), client: conn.clientIp });
        stream.destroy();
      } finally {
        this.pending = undefined;
      }
      if (c.session === undefined) resolve();
    });
  }

  /** Closes every live session at once (shutdown has already drained what it could). */
  close(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
  }

  private readonly onSession = (session: http2.ServerHttp2Session): void => {
    const c = this.pending;
    if (c === undefined) {
      session.destroy();
      return;
    }
    this.sessions.set(session, c);
    this.live.add(session);
    session.once('close', () => this.live.delete(session));
    c.attach(session);
  };

  private readonly onStream = (
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    flags: number,
    rawHeaders: string[],
  ): void => {
    stream.on('error', noop);
    const c = this.sessions.get(stream.session!);
    if (c === undefined) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    c.onStream(stream, headers, flags, rawHeaders);
  };
}

/**
 * Node's server reads two TLS facts off the socket when it adopts it: ALPN (no `h2` ⇒ it answers
 * "HTTP/1.0 403" and gives up) and `secureConnecting` (still set on a server-side TLSSocket made
 * by hand ⇒ it waits for a 'secureConnect' that never comes). Mesh TLS negotiates no ALPN and the
 * handshake is over, so both are adjusted for the synchronous hand-over.
 */
function emitConnection(server: http2.Http2Server, stream: InboundConnection['stream']): void {
  const t = stream as unknown as { encrypted?: boolean; alpnProtocol?: string | false | null | undefined; secureConnecting?: boolean };
  if (t.encrypted !== true) {
    server.emit('connection', stream);
    return;
  }
  const alpn = t.alpnProtocol;
  t.secureConnecting = false;
  t.alpnProtocol = 'h2';
  try {
    server.emit('connection', stream);
  } finally {
    t.alpnProtocol = alpn;
  }
}

/** One client connection's HTTP/2 session. */
class H2Connection implements HeaderSink {
  session: http2.ServerHttp2Session | undefined;
  private readonly ctx: ConnectionContext;
  private readonly view = new H2RequestView();
  private readonly names = new LogicalNames();
  /** The regular headers of the request being routed (header modifier filters write here). */
  private outgoing: OutgoingHeaders = {};
  private cancelPing: (() => void) | undefined;

  constructor(
    private readonly conn: InboundConnection,
    private readonly deps: H2ServerDeps,
    private readonly resolve: () => void,
  ) {
    this.ctx = deps.context(conn);
  }

  attach(session: http2.ServerHttp2Session): void {
    this.session = session;
    const cfg = this.deps.settings;
    if (cfg.flowControl.kind === 'fixed' && cfg.flowControl.initialConnectionWindowSize > 65_535) {
      try {
        session.setLocalWindowSize(cfg.flowControl.initialConnectionWindowSize);
      } catch {
        // Not connected yet: only the SETTINGS stream window applies to this session.
      }
    }
    session.on('error', (err) => {
      if (this.deps.log.enabled('debug')) this.deps.log.debug('HTTP/2 connection failed', { error: messageOf(err), client: this.conn.clientIp });
    });
    session.once('close', () => {
      this.cancelPing?.();
      if (!this.conn.stream.destroyed) this.conn.stream.destroy();
      this.resolve();
    });
    if (cfg.keepAlive !== undefined) this.schedulePing(cfg.keepAlive.intervalMs, cfg.keepAlive.timeoutMs);
  }

  mutableHeaders(): H2HeaderEdits {
    return new H2HeaderEdits(this.outgoing);
  }

  private readonly releaseSlot = (): void => this.deps.inFlight.release();

  onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, raw: string[]): void {
    const ctx = this.ctx;
    const start = this.deps.clock.monotonic();
    const h = headers as H2Headers;
    const grpc = isGrpcRequest(2, single(headers['content-type']));
    const view = this.view.reset(h, ctx.origDst);
    const outgoing = (this.outgoing = headersFromRaw(raw));
    setClientId(outgoing, ctx.clientId);
    if (!this.deps.inFlight.tryAcquire()) {
      respondH2(stream, LOAD_SHED_RESPONSE, grpc, ctx.emitHeaders);
      return;
    }
    stream.once('close', this.releaseSlot);
    const verdict = this.deps.gate.check(ctx.gate, this.conn.policy.current(), view, this);
    if (!isForward(verdict)) {
      respondH2(stream, verdict, grpc, ctx.emitHeaders);
      return;
    }
    verdict.countRequest();
    const record = new H2Request(stream, verdict, grpc, ctx.emitHeaders, start, this.deps.clock);
    const app = this.deps.app.endpoint(this.conn.target);
    const logical = this.names.get(view);
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const origProto = single(headers[ORIG_PROTO_HEADER]);
    let op: OrigProto | undefined;
    if (origProto !== undefined) {
      op = parseOrigProto(origProto);
      if (op === undefined) this.deps.log.warn('unknown l5d-orig-proto header value', { value: origProto });
    }
    if (op !== undefined) {
      const method = view.method;
      const body = h1BodyMode(outgoing, op.version, endStream);
      const authority = view.authority!;
      let target = single(headers[':path']) ?? '/';
      const hasHost = typeof outgoing.host === 'string' && outgoing.host !== '';
      if (op.absoluteForm) target = `${view.scheme ?? 'http'}://${authority}${target}`;
      // RFC 9113 §8.3.1: an HTTP/2 → HTTP/1.1 intermediary creates Host from :authority. (The Rust
      // outbound keeps the original request's Host, so its requests already carry one.)
      if (!hasHost && (view.hasAuthority || op.absoluteForm)) outgoing.host = authority;
      let head: Buffer;
      try {
        head = renderH1RequestHead({ method, target, version: op.version }, outgoing);
      } catch (err) {
        this.deps.log.info('HTTP/2 request cannot be sent as HTTP/1', { error: messageOf(err), client: this.conn.clientIp });
        record.failed(inboundRejection('unexpected-error'));
        return;
      }
      const upstream = app.target(op.absoluteForm ? logical + ABSOLUTE_FORM_KEY : logical);
      const req = { head, body, isHead: method === 'HEAD', oneOff: op.version === 10 || !hasHost, idempotent: IDEMPOTENT.has(method) };
      new H1Exchange(stream, req, app.pool, upstream, record).start();
      return;
    }
    const full: OutgoingHeaders = {
      ':method': view.method,
      ':path': single(headers[':path']) ?? '/',
      ':scheme': single(headers[':scheme']) ?? 'http',
      ':authority': view.authority!,
    };
    if (view.method === 'CONNECT') {
      delete full[':path'];
      delete full[':scheme'];
    }
    for (const name in outgoing) full[name] = outgoing[name]!;
    new H2Forward(stream, full, endStream, record).start(app.h2Session());
  }

  /** HTTP/2 PING keepalive (INBOUND_SERVER_HTTP2_KEEP_ALIVE_*): no ack within the timeout ⇒ close. */
  private schedulePing(intervalMs: number, timeoutMs: number): void {
    const clock = this.deps.clock;
    this.cancelPing = clock.setTimer(intervalMs, () => {
      const session = this.session;
      if (session === undefined || session.closed || session.destroyed) return;
      let acked = false;
      const cancelTimeout = clock.setTimer(timeoutMs, () => {
        if (!acked) session.destroy();
      });
      const sent = session.ping((err) => {
        acked = err === null;
        cancelTimeout();
        if (acked) this.schedulePing(intervalMs, timeoutMs);
      });
      if (!sent) {
        cancelTimeout();
        this.schedulePing(intervalMs, timeoutMs);
      }
    });
  }
}

function setClientId(headers: OutgoingHeaders, clientId: string | undefined): void {
  if (clientId === undefined) delete headers[CLIENT_ID_HEADER];
  else headers[CLIENT_ID_HEADER] = clientId;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function noop(): void {}
