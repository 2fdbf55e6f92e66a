// One downgraded request (HTTP/2 from a peer proxy, HTTP/1 to the app): the head and streamed
// body go out on a pooled connection; the app's response comes back as HTTP/2 with
// `l5d-orig-proto` naming its HTTP/1 version and connection-level headers removed.
import http2 from 'node:http2';
import type net from 'node:net';
import { messageOf } from '../../core/errors.js';
import {
  ChunkedDecoder,
  EofDecoder,
  LengthDecoder,
  ResponseParser,
  type BodyDecoder,
  type Http1Pool,
  type ResponseHead,
  type UpstreamConnection,
  type UpstreamTarget,
} from '../../http/h1/index.js';
import type { SyntheticResponse as PolicyResponse } from '../../policy/inbound/index.js';
import { CHUNKED, EOF, LENGTH, NO_BODY, bodyKindOf, h2ReasonName, toH2Headers } from './h1-response.js';
import type { H1BodyMode } from './orig-proto.js';
import { parseGrpcStatus } from './route-metrics.js';
import { appConnectFailure, appFailure } from './synthetic.js';

export interface H1ExchangeRequest {
  readonly head: Buffer;
  readonly body: H1BodyMode;
  readonly isHead: boolean;
  /** HTTP/1.0 and requests without Host use a connection of their own (spec §5.8). */
  readonly oneOff: boolean;
  /** No replay on a fresh connection unless the request may be repeated. */
  readonly idempotent: boolean;
}

/** What the exchange reports back to the HTTP/2 server. */
export interface H1ExchangeObserver {
  /** The response head went to the client. */
  responseStarted(status: number): void;
  /** Failed before a response began: the caller answers with `resp`. */
  failed(resp: PolicyResponse): void;
  /**
   * The exchange is over. `grpcStatus` from the response head; `error` when the response was cut
   * short (the stream was reset).
   */
  finished(status: number, grpcStatus: number | undefined, error: string | undefined): void;
}

const CHUNK_END = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** Per request; its handlers are bound once and reach the sockets without per-chunk closures. */
export class H1Exchange {
  private conn: UpstreamConnection | undefined;
  private socket: net.Socket | undefined;
  private readonly parser = new ResponseParser({ lowercaseNames: true });
  private body: BodyDecoder | undefined;
  private bodyKind = NO_BODY;
  private status = 0;
  private grpcStatus: number | undefined;
  private reqDone: boolean;
  private resDone = false;
  private started = false;
  private sawBytes = false;
  private reusable = true;
  private retried = false;
  private over = false;
  private bodyWired = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly req: H1ExchangeRequest,
    private readonly pool: Http1Pool,
    private readonly target: UpstreamTarget,
    private readonly observer: H1ExchangeObserver,
  ) {
    this.reqDone = req.body === 'none' || req.body === 'drop';
    if (req.body === 'drop') stream.resume();
    stream.on('close', this.onStreamClose);
    stream.on('drain', this.onStreamDrain);
  }

  start(): void {
    const pooled = this.req.oneOff ? undefined : this.pool.take(this.target.key);
    if (pooled !== undefined) this.attach(pooled);
    else this.connectNew();
  }

  private connectNew(): void {
    this.pool.connect(this.target).then(this.attach, this.onConnectError);
  }

  private readonly onConnectError = (err: unknown): void => {
    if (this.over) return;
    this.fail(appConnectFailure(err));
  };

  private readonly attach = (conn: UpstreamConnection): void => {
    if (this.over) {
      this.pool.release(conn, false);
      return;
    }
    this.conn = conn;
    const s = (this.socket = conn.socket);
    s.on('data', this.onUpData);
    s.on('end', this.onUpEnd);
    s.on('close', this.onUpClose);
    s.on('drain', this.onUpDrain);
    s.write(this.req.head);
    if (!this.reqDone && !this.bodyWired) {
      this.bodyWired = true;
      this.stream.on('data', this.onReqData);
      this.stream.on('end', this.onReqEnd);
    }
    if (!this.reqDone) this.stream.resume();
  };

  // --- request body: HTTP/2 stream → app ---

  private readonly onReqData = (chunk: Buffer): void => {
    const s = this.socket;
    if (s === undefined || this.over) return;
    let ok: boolean;
    if (this.req.body === 'chunked') {
      if (chunk.length === 0) return;
      s.cork();
      s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      s.write(chunk);
      ok = s.write(CHUNK_END);
      s.uncork();
    } else {
      ok = s.write(chunk);
    }
    if (!ok) this.stream.pause();
  };

  private readonly onReqEnd = (): void => {
    if (this.over) return;
    if (this.req.body === 'chunked') this.socket?.write(LAST_CHUNK);
    this.reqDone = true;
    this.maybeFinish();
  };

  private readonly onUpDrain = (): void => {
    if (!this.reqDone) this.stream.resume();
  };

  // --- response: app → HTTP/2 stream ---

  private readonly onUpData = (buf: Buffer): void => {
    if (this.over) return;
    this.sawBytes = true;
    let off = 0;
    while (!this.started && off < buf.length) {
      const r = this.parser.feed(buf, off);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'error') return this.fail(appFailure(`invalid response from the app: ${r.reason}`));
      off += r.consumed;
      const res = r.head;
      if (res.status === 101) return this.fail(appFailure('unexpected 101 Switching Protocols'));
      // Interim responses (100 Continue, 103) are not relayed.
      if (res.status < 200) continue;
      if (!this.begin(res)) return;
    }
    if (!this.started) return;
    if (this.bodyKind === NO_BODY) {
      // Bytes after a complete response: the connection is not clean any more.
      if (off < buf.length) this.reusable = false;
      return this.responseDone();
    }
    if (off < buf.length) this.feedBody(buf, off);
  };

  private begin(res: ResponseHead): boolean {
    const kind = bodyKindOf(res, this.req.isHead);
    if (typeof kind === 'string') {
      this.fail(appFailure(kind));
      return false;
    }
    this.bodyKind = kind;
    this.status = res.status;
    this.grpcStatus = parseGrpcStatus(res.header('grpc-status'));
    if (!res.keepAlive) this.reusable = false;
    const headers = toH2Headers(res);
    try {
      this.stream.respond(headers, { endStream: kind === NO_BODY });
    } catch (err) {
      this.fail(appFailure(`unusable response from the app: ${messageOf(err)}`));
      return false;
    }
    this.started = true;
    this.observer.responseStarted(res.status);
    switch (kind) {
      case NO_BODY:
        break;
      case LENGTH:
        this.body = new LengthDecoder().reset(res.contentLength);
        break;
      case CHUNKED:
        this.body = new ChunkedDecoder();
        break;
      case EOF:
        this.reusable = false;
        this.body = new EofDecoder();
        break;
    }
    return true;
  }

  private feedBody(buf: Buffer, off: number): void {
    const dec = this.body;
    if (dec === undefined || this.resDone) {
      this.reusable = false;
      return;
    }
    let ok = true;
    if (dec instanceof ChunkedDecoder) {
      while (off < buf.length && !dec.done) {
        const n = dec.feedRun(buf, off, buf.length);
        if (n < 0) return this.abort('unclassified');
        if (dec.runIsData && n > 0) ok = this.stream.write(buf.subarray(off, off + n)) && ok;
        off += n;
      }
    } else {
      const n = dec.feed(buf, off, buf.length);
      if (n > 0) ok = this.stream.write(off === 0 && n === buf.length ? buf : buf.subarray(off, off + n));
      off += n;
    }
    if (!ok) this.socket?.pause();
    if (dec.done) {
      if (off < buf.length) this.reusable = false;
      this.responseDone();
    }
  }

  private readonly onStreamDrain = (): void => {
    if (!this.resDone) this.socket?.resume();
  };

  private responseDone(): void {
    if (this.resDone) return;
    this.resDone = true;
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
    // The app answered before the request body ended: that connection cannot be reused.
    if (!this.reqDone) this.reusable = false;
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.over || !this.resDone || !this.reqDone) return;
    this.over = true;
    this.releaseConn(this.reusable && !this.req.oneOff);
    this.observer.finished(this.status, this.grpcStatus, undefined);
  }

  // --- failures ---

  private readonly onUpEnd = (): void => {
    if (this.over) return;
    if (this.started && this.bodyKind === EOF) {
      (this.body as EofDecoder).end();
      this.reusable = false;
      this.responseDone();
      return;
    }
    this.upstreamGone('the app closed the connection');
  };

  private readonly onUpClose = (): void => {
    if (this.over) return;
    const err = this.socket?.errored;
    this.upstreamGone(err == null ? 'the app closed the connection' : `app connection failed: ${messageOf(err)}`);
  };

  private upstreamGone(reason: string): void {
    if (this.started) {
      if (!this.resDone) return this.abort('unclassified');
      // The response is complete; only the rest of the request body had nowhere to go.
      this.reusable = false;
      if (!this.reqDone) {
        this.stream.resume();
        this.reqDone = true;
      }
      return this.maybeFinish();
    }
    const conn = this.conn;
    // A pooled connection the app had already closed: replay once on a fresh one when safe.
    if (conn !== undefined && conn.reused && !this.sawBytes && !this.retried && this.req.idempotent && this.req.body === 'none') {
      this.retried = true;
      this.releaseConn(false);
      this.connectNew();
      return;
    }
    this.fail(appFailure(reason));
  }

  private fail(resp: PolicyResponse): void {
    if (this.over) return;
    this.over = true;
    this.releaseConn(false);
    if (!this.reqDone) this.stream.resume();
    this.observer.failed(resp);
  }

  /** The response broke after its head was sent: reset the stream (HTTP/2 errors are not rescued). */
  private abort(error: string): void {
    if (this.over) return;
    this.over = true;
    this.releaseConn(false);
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    this.observer.finished(this.status, this.grpcStatus, error);
  }

  private readonly onStreamClose = (): void => {
    if (this.over) return;
    // The client reset the stream or the connection went away.
    this.over = true;
    this.releaseConn(false);
    this.observer.finished(this.status, this.grpcStatus, this.started ? `h2(${h2ReasonName(this.stream.rstCode)})` : undefined);
  };

  private releaseConn(reusable: boolean): void {
    const conn = this.conn;
    const s = this.socket;
    if (conn === undefined || s === undefined) return;
    this.conn = undefined;
    this.socket = undefined;
    s.off('data', this.onUpData);
    s.off('end', this.onUpEnd);
    s.off('close', this.onUpClose);
    s.off('drain', this.onUpDrain);
    s.resume();
    this.pool.release(conn, reusable);
  }
}
