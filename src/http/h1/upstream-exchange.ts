// One forwarded request over pooled upstream connections: acquiring a connection, the request
// head and body going out, route timeouts, failures, policy retries (replaying the kept body on
// a new attempt) and the reuse verdict at the end. The response half lives in ResponseRelay.
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { ChunkedDecoder, LengthDecoder, type BodyDecoder } from './body.js';
import { BODY_CHUNKED, BODY_LENGTH, requestBodyKind } from './framing.js';
import type { ForwardDecision, Http1Outcome, RouteDecision } from './handler.js';
import type { RequestHead, ResponseHead } from './head.js';
import type { HeadLimits } from './head-parser.js';
import type { UpstreamConnection } from './pool.js';
import { ExchangeTimers, type TimerOwner } from './exchange-timers.js';
import { RequestReplay } from './request-replay.js';
import { R_BODY, R_DONE, R_HEAD, ResponseRelay, type RelayOwner } from './response-relay.js';
import { rewriteHead, type HeadEdits } from './rewrite-head.js';
import type { SyntheticResponse } from './synthetic.js';
import { connectFailure, internalFailure, requestTimeout, responseTimeout, upstreamFailure } from './upstream-errors.js';

/** The client side of an exchange (the connection serving requests). */
export interface ExchangeHost {
  readonly client: net.Socket;
  /** The request head went upstream: feed the request body, if any, to requestBytes(). */
  exchangeReady(): void;
  /** Both messages are complete and the upstream connection is back in its pool (or closed). */
  exchangeDone(keepClient: boolean): void;
  /** Failed before a response head reached the client: answer with resp, then close. */
  exchangeFailed(resp: SyntheticResponse, outcome: Http1Outcome): void;
  /** Failed after the response began: the client connection must be reset. */
  exchangeAborted(outcome: Http1Outcome): void;
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
/** An attempt was discarded; the next attempt's decision is awaited (backoff, endpoint pick). */
const P_RETRY = 4;

/** Requests that may be replayed when a reused connection turns out to be dead (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const ABSOLUTE_FORM_KEY = '\u0000absolute-form';

/**
 * Connections are shared per target and request authority, as hyper's pool keys them (scheme and
 * authority of the normalized URI: the absolute URI's, else Host); absolute-form apart.
 */
function poolKey(targetKey: string, req: RequestHead): string {
  if (req.targetForm !== 'absolute') return `${targetKey}\u0000${req.host!.toLowerCase()}`;
  return `${targetKey}\u0000${uriAuthority(req.target).toLowerCase()}${ABSOLUTE_FORM_KEY}`;
}

/** The authority of an absolute-form request-target (`scheme://authority/path`). */
function uriAuthority(target: string): string {
  const from = target.indexOf('://') + 3;
  let end = from;
  while (end < target.length && target[end] !== '/' && target[end] !== '?') end++;
  return target.slice(from, end);
}

/** An absolute-form request without Host gets one from its URI, as hyper's client sets it. */
function withHost(edits: HeadEdits | undefined, authority: string): HeadEdits {
  return { ...(edits?.remove !== undefined && { remove: edits.remove }), set: [...(edits?.set ?? []), ['host', authority]] };
}
const EMPTY = Buffer.alloc(0);

/** One per client connection, reused for each forwarded request (its handlers are bound once). */
export class UpstreamExchange implements RelayOwner, TimerOwner {
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
  private readonly replay = new RequestReplay();
  /** Attempts begun for the current request. */
  private attempts = 0;
  /** Bumped per attempt, so a connect that finishes after its attempt was abandoned is dropped. */
  private seq = 0;
  private requestTimeoutMs = 0;
  private readonly timers: ExchangeTimers;

  constructor(
    private readonly host: ExchangeHost,
    limits: HeadLimits,
    clock: Clock,
  ) {
    this.relay = new ResponseRelay(this, limits, clock);
    this.timers = new ExchangeTimers(this, clock);
  }

  get client(): net.Socket {
    return this.host.client;
  }

  start(req: RequestHead, d: ForwardDecision): void {
    this.req = req;
    this.attempts = 0;
    this.timers.stopAll();
    const kind = requestBodyKind(req);
    this.reqBody =
      kind === BODY_CHUNKED ? this.reqChunked.reset() : kind === BODY_LENGTH ? this.reqLength.reset(req.contentLength) : undefined;
    this.reqDone = this.reqBody === undefined;
    this.replay.reset(d.retry, kind === BODY_LENGTH ? req.contentLength : 0);
    if (d.requestTimeoutMs !== undefined) {
      this.requestTimeoutMs = d.requestTimeoutMs;
      this.timers.startRequest(d.requestTimeoutMs);
    }
    this.begin(d);
  }

  /** One attempt: the first, or a retry with the kept body (then the request is already complete). */
  private begin(d: ForwardDecision): void {
    const req = this.req!;
    this.d = d;
    this.attempts++;
    this.seq++;
    this.upBlocked = this.discardBody = this.retried = false;
    this.relay.reset(req, d, this.attempts > 1);
    this.oneOff = req.version === 10 || !req.hasHost || req.wantsUpgrade;
    this.key = this.oneOff ? d.target.key : poolKey(d.target.key, req);
    try {
      const edits = req.host === undefined && req.targetForm === 'absolute' ? withHost(d.requestEdits, uriAuthority(req.target)) : d.requestEdits;
      this.outHead = rewriteHead(req, { keepHopByHop: req.wantsUpgrade, edits });
    } catch (err) {
      this.fail(internalFailure(err));
      return;
    }
    if (this.reqDone) this.requestSent();
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
    if (n > 0 && !this.discardBody) {
      const slice = n === buf.length ? buf : buf.subarray(off, off + n);
      if (this.replay.active) this.replay.keep(slice, dec === this.reqChunked ? this.reqChunked.dataBytes : this.reqLength.dataBytes);
      if (!this.upstream!.write(slice) && !this.upBlocked) {
        this.upBlocked = true;
        this.host.updateReading();
      }
    }
    if (dec.done) {
      this.reqDone = true;
      this.requestSent();
    }
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
    this.timers.stopAll();
    this.dropUpstream();
    this.replay.drop();
  }

  // --- connection lifecycle ---

  private connectNew(): void {
    this.phase = P_CONNECTING;
    const seq = this.seq;
    // A closure per new connection (not per request): it tells a stale connect from a current one.
    this.d!.pool.connect(this.d!.target, this.key).then(
      (conn) => this.onConnected(conn, seq),
      (err: unknown) => this.onConnectError(err, seq),
    );
  }

  private onConnected(conn: UpstreamConnection, seq: number): void {
    if (this.phase !== P_CONNECTING || seq !== this.seq) {
      conn.pool.release(conn, false);
      return;
    }
    this.connected(conn);
  }

  private onConnectError(err: unknown, seq: number): void {
    if (this.phase !== P_CONNECTING || seq !== this.seq) return;
    this.fail(connectFailure(err));
  }

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
    if (this.attempts > 1) this.replay.writeTo(up);
    else this.host.exchangeReady();
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

  // --- timers ---

  /** The request went out completely: the response and attempt deadlines start now. */
  private requestSent(): void {
    if (this.relay.state === R_DONE) return;
    const d = this.d!;
    if (d.responseTimeoutMs !== undefined) this.timers.startResponse(d.responseTimeoutMs);
    const attemptMs = d.retry?.attemptTimeoutMs;
    if (attemptMs !== undefined && this.relay.state === R_HEAD) this.timers.startAttempt(attemptMs);
  }

  responseTimedOut(): void {
    this.timedOut(responseTimeout(this.d!.responseTimeoutMs!), 'response-timeout');
  }

  requestTimedOut(): void {
    this.timedOut(requestTimeout(this.requestTimeoutMs), 'request-timeout');
  }

  /** A route deadline: 504 while no head reached the client, else the client is reset. */
  private timedOut(resp: SyntheticResponse, outcome: Http1Outcome): void {
    if (this.phase === P_RETRY || this.phase === P_CONNECTING || (this.phase === P_ACTIVE && this.relay.state === R_HEAD)) {
      this.fail(resp, outcome);
    } else if (this.phase === P_ACTIVE && this.relay.state === R_BODY) {
      this.broke(outcome);
    }
  }

  /** The retry policy's per-attempt head deadline: retried when possible, else 504. */
  attemptTimedOut(): void {
    if (this.phase !== P_CONNECTING && !(this.phase === P_ACTIVE && this.relay.state === R_HEAD)) return;
    const retry = this.d!.retry!;
    if (this.replayable()) {
      let next: RouteDecision | Promise<RouteDecision> | undefined;
      try {
        next = retry.retryTimeout(this.req!);
      } catch (err) {
        return this.fail(internalFailure(err));
      }
      if (next !== undefined) return this.retryWith(next);
    }
    this.fail(responseTimeout(retry.attemptTimeoutMs!), 'response-headers-timeout');
  }

  // --- retries ---

  /** The whole body was sent and kept: another attempt can carry the same request. */
  private replayable(): boolean {
    return this.replay.active && this.reqDone && !this.discardBody;
  }

  /** Discards the current attempt (its connection is not reused) and waits for the next decision. */
  private retryWith(next: RouteDecision | Promise<RouteDecision>): void {
    this.timers.stopAttemptTimers();
    this.dropUpstream();
    this.phase = P_RETRY;
    this.seq++;
    Promise.resolve(next).then(this.onRetryDecision, this.onRetryError);
  }

  private readonly onRetryDecision = (d: RouteDecision): void => {
    if (this.phase !== P_RETRY) return;
    if (typeof d === 'object' && d !== null && d.kind === 'respond') {
      this.phase = P_FINISHED;
      this.timers.stopAll();
      this.replay.drop();
      this.host.exchangeFailed(d.response, 'synthetic');
      return;
    }
    if (typeof d !== 'object' || d === null || d.kind !== 'forward' || typeof d.pool?.take !== 'function' || typeof d.target?.connect !== 'function') {
      return this.fail(internalFailure('unusable retry decision'));
    }
    this.begin(d);
  };

  private readonly onRetryError = (err: unknown): void => {
    if (this.phase === P_RETRY) this.fail(internalFailure(err));
  };

  // --- failures ---

  /** Nothing reached the client yet: answer resp. */
  private fail(resp: SyntheticResponse, outcome: Http1Outcome = 'synthetic'): void {
    this.phase = P_FINISHED;
    this.timers.stopAll();
    this.dropUpstream();
    this.replay.drop();
    this.host.exchangeFailed(resp, outcome);
  }

  /** The response is under way: all that is left is resetting the client. */
  private broke(outcome: Http1Outcome = 'upstream-reset'): void {
    this.phase = P_FINISHED;
    this.timers.stopAll();
    this.dropUpstream();
    this.replay.drop();
    this.host.exchangeAborted(outcome);
  }

  private requestBodyInvalid(reason: string): void {
    if (this.relay.started) this.broke();
    else this.fail({ status: 400, message: reason, close: true });
  }

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
    // The head is out: no retry any more; the response deadline counts from here if not sooner.
    this.timers.stopAttempt();
    this.replay.drop();
    const ms = this.d!.responseTimeoutMs;
    if (ms !== undefined) this.timers.startResponse(ms);
    this.host.responseHead(status);
  }

  relayTunnel(rest: Buffer | undefined): void {
    const conn = this.conn!;
    this.detach();
    this.phase = P_FINISHED;
    this.timers.stopAll();
    this.replay.drop();
    conn.pool.forget(conn);
    this.host.exchangeTunnel(conn.socket, rest);
  }

  relayDone(): void {
    this.timers.stopAll();
    this.maybeFinish();
  }

  retryResponse(res: ResponseHead): boolean {
    const retry = this.d!.retry;
    if (retry === undefined || !this.replayable()) return false;
    let next: RouteDecision | Promise<RouteDecision> | undefined;
    try {
      next = retry.retryResponse(res, this.req!);
    } catch {
      // A broken hook keeps the response it was asked about.
      return false;
    }
    if (next === undefined) return false;
    this.retryWith(next);
    return true;
  }

  private maybeFinish(): void {
    const relay = this.relay;
    if (this.phase !== P_ACTIVE || relay.state !== R_DONE) return;
    if (!this.reqDone && !relay.closeEarly) return;
    const conn = this.conn!;
    const reusable = relay.reusable && !this.oneOff && this.reqDone && !this.discardBody;
    this.detach();
    this.phase = P_FINISHED;
    this.timers.stopAll();
    conn.pool.release(conn, reusable);
    this.host.exchangeDone(relay.clientKeep && this.reqDone);
  }
}
