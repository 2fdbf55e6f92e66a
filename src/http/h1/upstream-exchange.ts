// One forwarded request over a pooled upstream connection: acquiring the connection, the
// request head and body going out, failures and retries, and the reuse verdict at the end.
// The response half lives in ResponseRelay.
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { ChunkedDecoder, LengthDecoder, type BodyDecoder } from './body.js';
import { BODY_CHUNKED, BODY_LENGTH, requestBodyKind } from './framing.js';
import type { ForwardDecision } from './handler.js';
import type { RequestHead } from './head.js';
import type { HeadLimits } from './head-parser.js';
import type { UpstreamConnection } from './pool.js';
import { R_DONE, R_HEAD, ResponseRelay, type RelayOwner } from './response-relay.js';
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

/** Requests that may be replayed when a reused connection turns out to be dead (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const ABSOLUTE_FORM_KEY = '\u0000absolute-form';
const EMPTY = Buffer.alloc(0);

/** One per client connection, reused for each forwarded request (its handlers are bound once). */
export class UpstreamExchange implements RelayOwner {
  upstream: net.Socket | undefined;
  private readonly relay: ResponseRelay;
  private readonly reqLength = new LengthDecoder();
  private readonly reqChunked = new ChunkedDecoder();
  private req: RequestHead | undefined;
  private d: ForwardDecision | undefined;
  private key = '';
  private oneOff = false;
  private conn: UpstreamConnection | undefined;
  private outHead: Buffer = EMPTY;
  private phase = P_IDLE;
  private reqBody: BodyDecoder | undefined;
  private reqDone = true;
  private upBlocked = false;
  /** The upstream went away after a complete response: the rest of the request body is dropped. */
  private discardBody = false;
  private retried = false;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly host: ExchangeHost,
    limits: HeadLimits,
    private readonly clock: Clock,
  ) {
    this.relay = new ResponseRelay(this, limits);
  }

  get client(): net.Socket {
    return this.host.client;
  }

  start(req: RequestHead, d: ForwardDecision): void {
    this.req = req;
    this.d = d;
    this.upBlocked = this.discardBody = this.retried = false;
    this.relay.reset(req, d);
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
    if (n > 0 && !this.discardBody && !this.upstream!.write(n === buf.length ? buf : buf.subarray(off, off + n)) && !this.upBlocked) {
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

  requestDone(): boolean {
    return this.reqDone;
  }

  clientDrained(): void {
    this.relay.clientDrained();
  }

  /** The client is gone: drop the upstream side. */
  abort(): void {
    if (this.phase === P_FINISHED || this.phase === P_IDLE) return;
    this.phase = P_FINISHED;
    this.stopTimer();
    this.dropUpstream();
  }

  // --- connection lifecycle ---

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
    const up = (this.upstream = conn.socket);
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
    const up = this.upstream;
    if (up === undefined) return;
    up.off('data', this.onUpData);
    up.off('end', this.onUpEnd);
    up.off('error', this.onUpError);
    up.off('close', this.onUpClose);
    up.off('drain', this.onUpDrain);
    this.conn = this.upstream = undefined;
  }

  private dropUpstream(): void {
    const conn = this.conn;
    if (conn === undefined) return;
    this.detach();
    conn.pool.release(conn, false);
  }

  private stopTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  // --- failures ---

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

  private requestBodyInvalid(reason: string): void {
    if (this.relay.started) this.broke();
    else this.fail({ status: 400, message: reason, close: true });
  }

  private readonly onTimeout = (): void => {
    this.cancelTimer = undefined;
    if (this.phase === P_CONNECTING || (this.phase === P_ACTIVE && this.relay.state === R_HEAD)) {
      this.fail(responseTimeout(this.d!.responseTimeoutMs!));
    }
  };

  // --- upstream socket events (bound once) ---

  private readonly onUpDrain = (): void => {
    if (!this.upBlocked) return;
    this.upBlocked = false;
    this.host.updateReading();
  };

  private readonly onUpData = (chunk: Buffer): void => {
    if (this.phase === P_ACTIVE) this.relay.data(chunk);
  };

  private readonly onUpEnd = (): void => {
    if (this.phase !== P_ACTIVE || this.relay.eof()) return;
    this.upstreamGone('connection closed by upstream before the response completed');
  };

  private readonly onUpError = (err: Error): void => {
    if (this.phase === P_ACTIVE) this.upstreamGone(`upstream connection error: ${messageOf(err)}`);
  };

  private readonly onUpClose = (): void => {
    if (this.phase === P_ACTIVE) this.upstreamGone('upstream connection closed');
  };

  private upstreamGone(reason: string): void {
    this.relay.reusable = false;
    if (this.relay.state === R_DONE) {
      // The response is complete; the rest of the request body has nowhere to go.
      this.discardBody = true;
      this.upBlocked = false;
      this.host.updateReading();
      return;
    }
    if (this.relay.state === R_HEAD && this.canRetry()) {
      this.retried = true;
      this.dropUpstream();
      this.connectNew();
      return;
    }
    this.relayFailed(reason);
  }

  /** A reused connection that died before answering a replayable request: the classic keep-alive race. */
  private canRetry(): boolean {
    return this.conn?.reused === true && !this.relay.sawBytes && !this.retried && this.reqBody === undefined && IDEMPOTENT.has(this.req!.method);
  }

  // --- RelayOwner ---

  relayFailed(reason: string): void {
    if (this.relay.started) this.broke();
    else this.fail(upstreamFailure(reason));
  }

  relayError(resp: SyntheticResponse): void {
    this.fail(resp);
  }

  relayBroke(): void {
    this.broke();
  }

  relayStarted(status: number): void {
    this.stopTimer();
    this.host.responseHead(status);
  }

  relayTunnel(rest: Buffer | undefined): void {
    const conn = this.conn!;
    this.detach();
    this.phase = P_FINISHED;
    conn.pool.forget(conn);
    this.host.exchangeTunnel(conn.socket, rest);
  }

  relayDone(): void {
    this.stopTimer();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    const relay = this.relay;
    if (this.phase !== P_ACTIVE || relay.state !== R_DONE) return;
    if (!this.reqDone && !relay.closeEarly) return;
    const conn = this.conn!;
    const reusable = relay.reusable && !this.oneOff && this.reqDone && !this.discardBody;
    this.detach();
    this.phase = P_FINISHED;
    conn.pool.release(conn, reusable);
    this.host.exchangeDone(relay.clientKeep && this.reqDone);
  }
}
