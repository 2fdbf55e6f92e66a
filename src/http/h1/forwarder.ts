// Serves HTTP/1 requests on one client connection: parse, route, forward or answer, keep-alive.
// Requests are handled one at a time; pipelined bytes wait until the previous response ends.
import type net from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { abortSocket, forwardDuplex } from '../../transport/duplex-forward.js';
import { ChunkedDecoder, LengthDecoder, type BodyDecoder } from './body.js';
import { BufferedInput } from './client-input.js';
import { BODY_CHUNKED, BODY_NONE, requestBodyKind } from './framing.js';
import type {
  Http1Handler,
  Http1Outcome,
  Http1Session,
  RouteDecision,
  ServeHttp1Options,
} from './handler.js';
import type { RequestHead } from './head.js';
import type { HeadError, HeadLimits } from './head-parser.js';
import { RequestParser } from './parse-head.js';
import { renderSyntheticResponse, type SyntheticResponse } from './synthetic.js';
import { internalFailure } from './upstream-errors.js';
import { UpstreamExchange, type ExchangeHost } from './upstream-exchange.js';

/**
 * Serves keep-alive HTTP/1 requests on `client` (plain or TLS), starting with `initialBytes`
 * already read from it (protocol detection). Resolves when the connection is closed; never
 * rejects, and no client or upstream failure escapes as an exception.
 *
 * Create the accepting server with `allowHalfOpen: true`, so a client that half-closes after
 * its request still gets the response.
 */
export function serveHttp1(
  client: net.Socket,
  initialBytes: Buffer,
  handler: Http1Handler,
  options: ServeHttp1Options = {},
): Promise<void> {
  return new Promise((resolve) => {
    new Http1ServerConnection(client, handler, options, resolve).start(initialBytes);
  });
}

const DEFAULT_MAX_RESPONSE_HEAD_BYTES = 400 * 1024;

const S_HEAD = 0;
const S_ROUTE = 1;
const S_EXCHANGE = 2;
/** A local response was sent; the request body is read and dropped. */
const S_DRAIN = 3;
const S_TUNNEL = 4;
/** We half-closed; input is discarded until the client closes too (or the linger timer fires). */
const S_CLOSING = 5;
const S_CLOSED = 6;

class Http1ServerConnection extends BufferedInput implements ExchangeHost, Http1Session {
  requestCount = 0;
  private state = S_HEAD;
  private readonly parser: RequestParser;
  private readonly limits: HeadLimits;
  private readonly responseLimits: HeadLimits;
  private readonly emitHeaders: boolean;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly lingerMs: number;
  private exchange: UpstreamExchange | undefined;
  private req: RequestHead | undefined;
  private reqOpen = false;
  /** The status sent for the current request, 0 before. */
  private status = 0;
  private startMs = 0;
  private readonly drainLength = new LengthDecoder();
  private readonly drainChunked = new ChunkedDecoder();
  private drainBody: BodyDecoder | undefined;
  private cancelLinger: (() => void) | undefined;

  constructor(
    client: net.Socket,
    private readonly handler: Http1Handler,
    opts: ServeHttp1Options,
    private readonly resolve: () => void,
  ) {
    super(client);
    this.limits = {
      ...(opts.maxHeadBytes !== undefined && { maxHeadBytes: opts.maxHeadBytes }),
      ...(opts.maxHeaders !== undefined && { maxHeaders: opts.maxHeaders }),
      lowercaseNames: opts.lowercaseNames ?? true,
    };
    this.responseLimits = { ...this.limits, maxHeadBytes: opts.maxResponseHeadBytes ?? DEFAULT_MAX_RESPONSE_HEAD_BYTES };
    this.parser = new RequestParser(this.limits);
    this.emitHeaders = opts.emitHeaders ?? false;
    this.log = opts.log ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.lingerMs = opts.lingerMs ?? 5000;
  }

  get socket(): net.Socket {
    return this.client;
  }

  start(initial: Buffer): void {
    const c = this.client;
    c.on('error', this.onError);
    c.on('close', this.onClose);
    if (c.destroyed) {
      this.onClose();
      return;
    }
    c.on('data', this.onData);
    c.on('end', this.onEnd);
    c.on('drain', this.onDrain);
    if (initial.length > 0) this.stash = initial;
    this.pump();
  }

  // --- client socket events (bound once per connection) ---

  private readonly onError = (err: Error): void => {
    if (this.log.enabled('debug')) this.log.debug('HTTP/1 client connection error', { error: messageOf(err) });
  };

  private readonly onClose = (): void => {
    if (this.state === S_TUNNEL) return;
    this.state = S_CLOSED;
    this.exchange?.abort();
    this.endRequest(this.status, 'client-error');
    this.cancelLinger?.();
    this.resolve();
  };

  private readonly onDrain = (): void => {
    if (this.state === S_EXCHANGE) this.exchange?.clientDrained();
    else if (this.state === S_HEAD) this.pump();
  };

  // --- input processing ---

  protected accepting(): boolean {
    switch (this.state) {
      case S_HEAD:
        // Pipelined requests wait while responses are not being read.
        return !this.client.writableNeedDrain;
      case S_DRAIN:
        return true;
      case S_EXCHANGE:
        return this.exchange!.acceptsBody();
      default:
        return false;
    }
  }

  protected input(buf: Buffer): void {
    switch (this.state) {
      case S_HEAD: {
        const r = this.parser.feed(buf, 0);
        if (r.kind === 'incomplete') return;
        if (r.kind === 'error') return this.badRequest(r);
        this.stashRest(buf, r.consumed);
        return this.beginRequest(r.head);
      }
      case S_DRAIN: {
        const dec = this.drainBody!;
        const n = dec.feed(buf, 0, buf.length);
        if (n < 0) return this.closeClient();
        if (!dec.done) return;
        this.drainBody = undefined;
        this.stashRest(buf, n);
        return this.nextRequest();
      }
      case S_EXCHANGE: {
        const ex = this.exchange!;
        const n = ex.requestBytes(buf, 0);
        if (this.state !== S_EXCHANGE || ex.acceptsBody()) return;
        this.stashRest(buf, n);
        return ex.requestFinished();
      }
      default:
        return;
    }
  }

  protected inputFinished(): void {
    switch (this.state) {
      case S_HEAD:
      case S_DRAIN:
        return this.closeClient();
      case S_EXCHANGE:
        if (this.exchange!.acceptsBody()) {
          // The request body was cut short.
          this.exchange!.abort();
          this.endRequest(this.status, 'client-error');
          this.destroyClient();
        }
        return;
      default:
        return;
    }
  }

  protected ignoringInput(): boolean {
    return this.state >= S_TUNNEL;
  }

  protected wantsRead(): boolean {
    switch (this.state) {
      case S_HEAD:
        return this.stash === undefined && !this.client.writableNeedDrain;
      case S_DRAIN:
      case S_CLOSING:
        return true;
      case S_EXCHANGE:
        return this.exchange!.wantsBody();
      default:
        return false;
    }
  }

  // --- requests ---

  private beginRequest(req: RequestHead): void {
    this.req = req;
    this.reqOpen = true;
    this.status = 0;
    this.requestCount++;
    const h = this.handler;
    if (h.onRequestEnd !== undefined) this.startMs = this.clock.monotonic();
    h.onRequestStart?.(req, this);
    this.state = S_ROUTE;
    let d: RouteDecision | Promise<RouteDecision>;
    try {
      d = h.route(req, this);
    } catch (err) {
      return this.respond(internalFailure(err));
    }
    if (isPromise(d)) d.then(this.onRouted, this.onRouteError);
    else if (typeof d === 'object' && d !== null) this.decided(d);
    else this.respond(internalFailure('route returned no decision'));
  }

  private readonly onRouted = (d: RouteDecision): void => {
    if (this.state !== S_ROUTE) return;
    if (typeof d === 'object' && d !== null) this.decided(d);
    else this.respond(internalFailure('route returned no decision'));
    this.pump();
  };

  private readonly onRouteError = (err: unknown): void => {
    if (this.state !== S_ROUTE) return;
    this.respond(internalFailure(err));
    this.pump();
  };

  private decided(d: RouteDecision): void {
    if (d.kind === 'respond') return this.respond(d.response);
    if (d.kind !== 'forward' || typeof d.pool?.take !== 'function' || typeof d.target?.connect !== 'function') {
      return this.respond(internalFailure(`unusable route decision ${String((d as { kind?: unknown }).kind)}`));
    }
    this.state = S_EXCHANGE;
    (this.exchange ??= new UpstreamExchange(this, this.responseLimits, this.clock)).start(this.req!, d);
  }

  /** Answers the current request locally; keeps the connection when that is safe. */
  private respond(resp: SyntheticResponse): void {
    const req = this.req!;
    const body = requestBodyKind(req);
    // Keep-alive needs the unread body skipped; a client waiting for 100 Continue will not send it.
    const closing =
      resp.close || !req.keepAlive || req.version === 10 || this.clientEnded || (body !== BODY_NONE && req.expectContinue);
    this.writeSynthetic(resp, req.version, closing);
    this.endRequest(resp.status, 'synthetic');
    if (closing) return this.closeClient();
    if (body === BODY_NONE) return this.nextRequest();
    this.drainBody = body === BODY_CHUNKED ? this.drainChunked.reset() : this.drainLength.reset(req.contentLength);
    this.state = S_DRAIN;
  }

  private writeSynthetic(resp: SyntheticResponse, version: 10 | 11, closing: boolean): void {
    const bytes = renderSyntheticResponse(resp, {
      httpVersion: version,
      emitHeaders: this.emitHeaders,
      closing,
      nowMs: this.clock.now(),
    });
    this.client.write(bytes);
    this.status = resp.status;
    if (this.req !== undefined) this.handler.onResponseHead?.(this.req, resp.status);
  }

  private badRequest(r: HeadError): void {
    this.handler.onBadRequest?.(r.status, r.reason);
    if (this.log.enabled('debug')) this.log.debug('rejected HTTP/1 request', { status: r.status, reason: r.reason });
    const bytes = renderSyntheticResponse(
      { status: r.status, close: true },
      { httpVersion: r.version ?? 11, emitHeaders: false, closing: true, nowMs: this.clock.now() },
    );
    this.client.write(bytes);
    this.closeClient();
  }

  private nextRequest(): void {
    this.req = undefined;
    this.state = S_HEAD;
  }

  private endRequest(status: number, outcome: Http1Outcome): void {
    if (!this.reqOpen) return;
    this.reqOpen = false;
    const h = this.handler;
    if (h.onRequestEnd !== undefined) h.onRequestEnd(this.req!, status, this.clock.monotonic() - this.startMs, outcome);
  }

  // --- ExchangeHost ---

  exchangeReady(): void {
    this.pump();
  }

  exchangeDone(keepClient: boolean): void {
    this.endRequest(this.status, 'ok');
    if (!keepClient) return this.closeClient();
    this.nextRequest();
    this.pump();
  }

  exchangeFailed(resp: SyntheticResponse, outcome: Http1Outcome): void {
    if (this.state !== S_EXCHANGE) return;
    this.writeSynthetic(resp, this.req!.version, true);
    this.endRequest(resp.status, outcome);
    this.closeClient();
  }

  exchangeAborted(outcome: Http1Outcome): void {
    this.endRequest(this.status, outcome);
    this.destroyClient();
  }

  exchangeTunnel(up: net.Socket, upRest: Buffer | undefined): void {
    this.state = S_TUNNEL;
    const c = this.client;
    c.off('data', this.onData);
    c.off('end', this.onEnd);
    c.off('drain', this.onDrain);
    if (upRest !== undefined) c.write(upRest);
    if (this.stash !== undefined) up.write(this.stash);
    this.stash = undefined;
    void forwardDuplex(c, up).then(() => {
      this.state = S_CLOSED;
      this.endRequest(this.status, 'upgraded');
      this.resolve();
    });
  }

  responseHead(status: number): void {
    this.status = status;
    this.handler.onResponseHead?.(this.req!, status);
  }

  // --- closing ---

  /** Half-closes after queued writes flush, then drops whatever the client still sends. */
  private closeClient(): void {
    if (this.state >= S_TUNNEL) return;
    this.state = S_CLOSING;
    this.stash = undefined;
    this.exchange?.abort();
    const c = this.client;
    c.end();
    c.resume();
    this.cancelLinger = this.clock.setTimer(this.lingerMs, () => c.destroy());
  }

  private destroyClient(): void {
    if (this.state >= S_TUNNEL) return;
    this.state = S_CLOSING;
    this.stash = undefined;
    this.exchange?.abort();
    abortSocket(this.client);
  }
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
