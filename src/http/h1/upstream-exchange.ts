// One forwarded request over a pooled upstream connection: request head and body out, response
// head and body back as received slices, upgrade hand-off, and the reuse verdict at the end.
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { ChunkedDecoder, EofDecoder, LengthDecoder, type BodyDecoder } from './body.js';
import {
  BODY_CHUNKED,
  BODY_EOF,
  BODY_LENGTH,
  BODY_NONE,
  BODY_TUNNEL,
  requestBodyKind,
  responseBodyKind,
} from './framing.js';
import type { ForwardDecision } from './handler.js';
import type { RequestHead, ResponseHead } from './head.js';
import type { HeadLimits } from './head-parser.js';
import { ResponseParser } from './parse-head.js';
import type { UpstreamConnection } from './pool.js';
import { rewriteHead } from './rewrite-head.js';
import type { SyntheticResponse } from './synthetic.js';
import { connectFailure, internalFailure, responseTimeout, upstreamFailure } from './upstream-errors.js';

/** The client side of an exchange (the connection serving requests). */
export interface ExchangeHost {
  readonly client: net.Socket;
  /** The request head went upstream: feed the request body, if any, to requestBytes(). */
  exchangeReady(): void;
  /** Both messages are complete and the upstream connection is back in its pool (or closed). */
  exchangeDone(keepClient: boolean): void;
  /** Failed before a response head reached the client: answer with resp, then close. */
  exchangeFailed(resp: SyntheticResponse): void;
  /** Failed after the response began: the client connection must be reset. */
  exchangeAborted(): void;
  /** A 101 (or CONNECT 2xx) head was relayed: splice the sockets. upRest: bytes after that head. */
  exchangeTunnel(up: net.Socket, upRest: Buffer | undefined): void;
  /** wantsBody() may have changed. */
  updateReading(): void;
  /** A final response head was written to the client. */
  responseHead(status: number): void;
}

const P_IDLE = 0;
const P_CONNECTING = 1;
const P_ACTIVE = 2;
const P_FINISHED = 3;

const R_HEAD = 0;
const R_BODY = 1;
const R_DONE = 2;

/** Requests that may be replayed when a reused connection turns out to be dead (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const ABSOLUTE_FORM_KEY = '\u0000absolute-form';
const EMPTY = Buffer.alloc(0);

/** One per client connection, reused for each forwarded request (its handlers are bound once). */
export class UpstreamExchange {
  private readonly resParser: ResponseParser;
  private readonly reqLength = new LengthDecoder();
  private readonly reqChunked = new ChunkedDecoder();
  private readonly resLength = new LengthDecoder();
  private readonly resChunked = new ChunkedDecoder();
  private readonly resEof = new EofDecoder();
  private req: RequestHead | undefined;
  private d: ForwardDecision | undefined;
  private key = '';
  private oneOff = false;
  private conn: UpstreamConnection | undefined;
  private up: net.Socket | undefined;
  private outHead: Buffer = EMPTY;
  private phase = P_IDLE;
  private reqBody: BodyDecoder | undefined;
  private reqDone = true;
  private upBlocked = false;
  private discardBody = false;
  private resState = R_HEAD;
  private resBody: BodyDecoder | undefined;
  private dechunk = false;
  private resStarted = false;
  private relayed100 = false;
  private sawBytes = false;
  private reusable = true;
  private clientKeep = true;
  private closeEarly = false;
  private retried = false;
  private clientBlocked = false;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly host: ExchangeHost,
    limits: HeadLimits,
    private readonly clock: Clock,
  ) {
    this.resParser = new ResponseParser(limits);
  }

  start(req: RequestHead, d: ForwardDecision): void {
    this.req = req;
    this.d = d;
    this.reqDone = false;
    this.upBlocked = this.discardBody = this.dechunk = this.resStarted = false;
    this.relayed100 = this.sawBytes = this.closeEarly = this.retried = this.clientBlocked = false;
    this.reusable = this.clientKeep = true;
    this.resState = R_HEAD;
    this.resBody = undefined;
    this.oneOff = req.version === 10 || !req.hasHost || req.wantsUpgrade;
    this.key = req.targetForm === 'absolute' ? d.target.key + ABSOLUTE_FORM_KEY : d.target.key;
    try {
      this.outHead = rewriteHead(req, { keepHopByHop: req.wantsUpgrade, edits: d.requestEdits });
    } catch (err) {
      this.phase = P_FINISHED;
      this.host.exchangeFailed(internalFailure(err));
      return;
    }
    const kind = requestBodyKind(req);
    this.reqBody =
      kind === BODY_CHUNKED ? this.reqChunked.reset() : kind === BODY_LENGTH ? this.reqLength.reset(req.contentLength) : undefined;
    this.reqDone = this.reqBody === undefined;
    if (d.responseTimeoutMs !== undefined) this.cancelTimer = this.clock.setTimer(d.responseTimeoutMs, this.onTimeout);
    const pooled = this.oneOff ? undefined : d.pool.take(this.key);
    if (pooled !== undefined) this.connected(pooled);
    else this.connectNew();
  }

  /** The request body still has bytes to come and somewhere to go (or to be dropped). */
  acceptsBody(): boolean {
    return this.phase === P_ACTIVE && !this.reqDone;
  }

  /** acceptsBody() and the upstream is not pushing back. */
  wantsBody(): boolean {
    return this.phase === P_ACTIVE && !this.reqDone && !this.upBlocked;
  }

  /** Forwards the request-body bytes at buf[off...]; returns how many belonged to the body. */
  requestBytes(buf: Buffer, off: number): number {
    const dec = this.reqBody!;
    const n = dec.feed(buf, off, buf.length);
    if (n < 0) {
      this.requestBodyInvalid(dec.error ?? 'invalid request body');
      return buf.length - off;
    }
    if (n > 0 && !this.discardBody && !this.up!.write(n === buf.length ? buf : buf.subarray(off, off + n)) && !this.upBlocked) {
      this.upBlocked = true;
      this.host.updateReading();
    }
    if (dec.done) this.reqDone = true;
    return n;
  }

  /** Called by the host once it has set aside any bytes after the request body. */
  requestFinished(): void {
    this.maybeFinish();
  }

  clientDrained(): void {
    if (!this.clientBlocked) return;
    this.clientBlocked = false;
    this.up?.resume();
  }

  /** The client is gone: drop the upstream side. */
  abort(): void {
    if (this.phase === P_FINISHED || this.phase === P_IDLE) return;
    this.phase = P_FINISHED;
    this.stopTimer();
    this.dropUpstream();
  }

  private connectNew(): void {
    this.phase = P_CONNECTING;
    this.d!.pool.connect(this.d!.target, this.key).then(this.onConnected, this.onConnectError);
  }

  private readonly onConnected = (conn: UpstreamConnection): void => {
    if (this.phase !== P_CONNECTING) {
      conn.pool.release(conn, false);
      return;
    }
    this.connected(conn);
  };

  private readonly onConnectError = (err: unknown): void => {
    if (this.phase !== P_CONNECTING) return;
    this.fail(connectFailure(err));
  };

  private connected(conn: UpstreamConnection): void {
    this.conn = conn;
    const up = (this.up = conn.socket);
    this.phase = P_ACTIVE;
    up.on('data', this.onUpData);
    up.on('end', this.onUpEnd);
    up.on('error', this.onUpError);
    up.on('close', this.onUpClose);
    up.on('drain', this.onUpDrain);
    // Corked so the head and the body bytes the host feeds right away leave in one write.
    up.cork();
    if (!up.write(this.outHead)) this.upBlocked = true;
    this.host.exchangeReady();
    up.uncork();
  }

  private detach(): void {
    const up = this.up;
    if (up === undefined) return;
    up.off('data', this.onUpData);
    up.off('end', this.onUpEnd);
    up.off('error', this.onUpError);
    up.off('close', this.onUpClose);
    up.off('drain', this.onUpDrain);
  }

  private dropUpstream(): void {
    const conn = this.conn;
    if (conn === undefined) return;
    this.detach();
    this.conn = this.up = undefined;
    conn.pool.release(conn, false);
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Nothing reached the client yet: answer resp. */
  private fail(resp: SyntheticResponse): void {
    this.phase = P_FINISHED;
    this.stopTimer();
    this.dropUpstream();
    this.host.exchangeFailed(resp);
  }

  /** The response is under way: all that is left is resetting the client. */
  private broke(): void {
    this.phase = P_FINISHED;
    this.stopTimer();
    this.dropUpstream();
    this.host.exchangeAborted();
  }

  private upstreamFailed(reason: string): void {
    if (this.resStarted) this.broke();
    else this.fail(upstreamFailure(reason));
  }

  private requestBodyInvalid(reason: string): void {
    if (this.resStarted) this.broke();
    else this.fail({ status: 400, message: reason, close: true });
  }

  private readonly onTimeout = (): void => {
    this.cancelTimer = undefined;
    if (this.phase === P_CONNECTING || (this.phase === P_ACTIVE && this.resState === R_HEAD)) {
      this.fail(responseTimeout(this.d!.responseTimeoutMs!));
    }
  };

  private readonly onUpDrain = (): void => {
    if (!this.upBlocked) return;
    this.upBlocked = false;
    this.host.updateReading();
  };

  private readonly onUpData = (chunk: Buffer): void => {
    if (this.phase !== P_ACTIVE) return;
    if (this.resState === R_DONE) {
      // Bytes after a complete response: not a connection to trust again.
      this.reusable = false;
      return;
    }
    this.sawBytes = true;
    if (this.resState === R_BODY) {
      this.responseBytes(chunk, 0);
      return;
    }
    const client = this.host.client;
    client.cork();
    this.responseHeadBytes(chunk);
    client.uncork();
  };

  private responseHeadBytes(chunk: Buffer): void {
    let off = 0;
    for (;;) {
      const r = this.resParser.feed(chunk, off);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'error') {
        this.upstreamFailed(`invalid response: ${r.reason}`);
        return;
      }
      off += r.consumed;
      const res = r.head;
      if (res.status < 200 && res.status !== 101) {
        if (!this.relayInterim(res) || off >= chunk.length) return;
        continue;
      }
      if (!this.beginResponse(res, chunk, off)) return;
      break;
    }
    if (this.resState === R_BODY) {
      if (off < chunk.length) this.responseBytes(chunk, off);
      return;
    }
    if (off < chunk.length) this.reusable = false;
    this.responseDone();
  }

  /** 1xx other than 101: relayed to HTTP/1.1 clients (HTTP/1.0 ones must not get them). */
  private relayInterim(res: ResponseHead): boolean {
    if (res.status === 100) this.relayed100 = true;
    if (this.req!.version !== 11) return true;
    const head = this.rewriteResponse(res, { edits: this.d!.responseEdits });
    if (head === undefined) return false;
    this.toClient(head);
    return true;
  }

  /** Relays a final head; false when the exchange ended here (tunnel hand-off or failure). */
  private beginResponse(res: ResponseHead, chunk: Buffer, off: number): boolean {
    const req = this.req!;
    const d = this.d!;
    const kind = responseBodyKind(res, req);
    if (typeof kind === 'string') {
      this.upstreamFailed(kind);
      return false;
    }
    if (kind === BODY_TUNNEL) {
      // Like the Rust proxy: an upgrade keeps its connection headers; a CONNECT 2xx loses its framing headers.
      const head = this.rewriteResponse(res, {
        keepHopByHop: true,
        dropContentLength: req.isConnect,
        dropTransferEncoding: req.isConnect,
        edits: d.responseEdits,
      });
      if (head === undefined) return false;
      this.writeHead(res.status, head);
      this.handOff(off < chunk.length ? chunk.subarray(off) : undefined);
      return false;
    }
    const v10 = req.version === 10;
    let closeClient: boolean;
    try {
      closeClient = d.onResponseHead?.(res, req) === true || !req.keepAlive;
    } catch (err) {
      this.fail(internalFailure(err));
      return false;
    }
    if (req.expectContinue && !this.relayed100 && !this.reqDone) {
      // The client may never send a body it was not invited to send (hyper closes here too).
      closeClient = this.closeEarly = true;
      this.reusable = false;
    }
    this.dechunk = v10 && kind === BODY_CHUNKED;
    // A 1.0 response to a 1.0 client without keep-alive (hyper's fix_keep_alive) closes.
    if (kind === BODY_EOF || this.dechunk || (v10 && res.version === 10)) closeClient = true;
    if (!res.keepAlive || kind === BODY_EOF || (res.hasTransferEncoding && res.hasContentLength)) this.reusable = false;
    this.clientKeep = !closeClient;
    const bodyless = req.isHead || res.status === 204 || res.status === 304;
    const head = this.rewriteResponse(res, {
      dropTransferEncoding: bodyless || this.dechunk,
      dropContentLength: res.hasTransferEncoding,
      asHttp10: v10,
      connection: closeClient ? (v10 ? undefined : 'close') : v10 ? 'keep-alive' : undefined,
      edits: d.responseEdits,
    });
    if (head === undefined) return false;
    this.writeHead(res.status, head);
    if (kind === BODY_NONE) {
      this.resState = R_DONE;
      return true;
    }
    this.resState = R_BODY;
    this.resBody =
      kind === BODY_LENGTH ? this.resLength.reset(res.contentLength) : kind === BODY_CHUNKED ? this.resChunked.reset() : this.resEof.reset();
    return true;
  }

  private rewriteResponse(res: ResponseHead, opts: Parameters<typeof rewriteHead>[1]): Buffer | undefined {
    try {
      return rewriteHead(res, opts);
    } catch (err) {
      this.fail(internalFailure(`response edit: ${messageOf(err)}`));
      return undefined;
    }
  }

  private writeHead(status: number, head: Buffer): void {
    this.resStarted = true;
    this.stopTimer();
    this.toClient(head);
    this.host.responseHead(status);
  }

  private toClient(b: Buffer): void {
    if (!this.host.client.write(b) && !this.clientBlocked) {
      this.clientBlocked = true;
      this.up?.pause();
    }
  }

  private responseBytes(chunk: Buffer, off: number): void {
    const len = chunk.length;
    if (this.dechunk) {
      const dec = this.resChunked;
      while (off < len && !dec.done) {
        const n = dec.feedRun(chunk, off, len);
        if (n < 0) return this.broke();
        if (dec.runIsData && n > 0) this.toClient(chunk.subarray(off, off + n));
        off += n;
      }
      if (!dec.done) return;
    } else {
      const dec = this.resBody!;
      const n = dec.feed(chunk, off, len);
      if (n < 0) return this.broke();
      if (n > 0) this.toClient(n === len ? chunk : chunk.subarray(off, off + n));
      off += n;
      if (!dec.done) return;
    }
    if (off < len) this.reusable = false;
    this.responseDone();
  }

  private handOff(rest: Buffer | undefined): void {
    const conn = this.conn!;
    const up = conn.socket;
    this.detach();
    this.conn = this.up = undefined;
    this.phase = P_FINISHED;
    conn.pool.forget(conn);
    this.host.exchangeTunnel(up, rest);
  }

  private readonly onUpEnd = (): void => {
    if (this.phase !== P_ACTIVE) return;
    if (this.resState === R_BODY && this.resBody === this.resEof) {
      this.resEof.end();
      this.reusable = false;
      this.responseDone();
      return;
    }
    this.upstreamGone('connection closed by upstream before the response completed');
  };

  private readonly onUpError = (err: Error): void => {
    if (this.phase !== P_ACTIVE) return;
    this.upstreamGone(`upstream connection error: ${messageOf(err)}`);
  };

  private readonly onUpClose = (): void => {
    if (this.phase !== P_ACTIVE) return;
    this.upstreamGone('upstream connection closed');
  };

  private upstreamGone(reason: string): void {
    this.reusable = false;
    if (this.resState === R_DONE) {
      // The response is complete; the rest of the request body has nowhere to go.
      this.discardBody = true;
      this.upBlocked = false;
      this.host.updateReading();
      return;
    }
    if (this.resState === R_HEAD && this.canRetry()) {
      this.retried = true;
      this.dropUpstream();
      this.connectNew();
      return;
    }
    this.upstreamFailed(reason);
  }

  /** A reused connection that died before answering a replayable request: the classic keep-alive race. */
  private canRetry(): boolean {
    return this.conn?.reused === true && !this.sawBytes && !this.retried && this.reqBody === undefined && IDEMPOTENT.has(this.req!.method);
  }

  private responseDone(): void {
    this.resState = R_DONE;
    this.stopTimer();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.phase !== P_ACTIVE || this.resState !== R_DONE) return;
    if (!this.reqDone && !this.closeEarly) return;
    const conn = this.conn!;
    const reusable = this.reusable && !this.oneOff && this.reqDone && !this.discardBody;
    this.detach();
    this.conn = this.up = undefined;
    this.phase = P_FINISHED;
    conn.pool.release(conn, reusable);
    this.host.exchangeDone(this.clientKeep && this.reqDone);
  }
}
