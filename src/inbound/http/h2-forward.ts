// One plain HTTP/2 request forwarded to the app over the port's shared HTTP/2 session: headers,
// body and trailers both ways (gRPC), streamed with backpressure, resets passed on.
import http2 from 'node:http2';
import { messageOf } from '../../core/errors.js';
import type { SyntheticResponse as PolicyResponse } from '../../policy/inbound/index.js';
import type { OutgoingHeaders } from './header-edits.js';
import type { H1ExchangeObserver } from './h1-exchange.js';
import { h2ReasonName } from './h1-response.js';
import { parseGrpcStatus } from './route-metrics.js';
import { appConnectFailure, appFailure } from './synthetic.js';

/** Same contract as the downgraded exchange: `grpcStatus` here comes from headers or trailers. */
export type H2ForwardObserver = H1ExchangeObserver;

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_FLAG_END_STREAM } = http2.constants;
const NO_TRAILERS: http2.OutgoingHttpHeaders = Object.freeze({});

/** Response headers HTTP/2 forbids or that only describe the app's connection. */
const SKIP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

export class H2Forward {
  private up: http2.ClientHttp2Stream | undefined;
  private status = 0;
  private grpcStatus: number | undefined;
  private started = false;
  private over = false;
  private reqTrailers: http2.IncomingHttpHeaders | undefined;
  private resTrailers: http2.IncomingHttpHeaders | undefined;

  constructor(
    private readonly down: http2.ServerHttp2Stream,
    private readonly headers: OutgoingHeaders,
    private readonly endStream: boolean,
    private readonly observer: H2ForwardObserver,
  ) {
    down.on('close', this.onDownClose);
    down.on('trailers', this.onReqTrailers);
  }

  start(session: http2.ClientHttp2Session | Promise<http2.ClientHttp2Session>): void {
    if (session instanceof Promise) session.then(this.send, this.onConnectError);
    else this.send(session);
  }

  private readonly onConnectError = (err: unknown): void => {
    if (this.over) return;
    this.fail(appConnectFailure(err));
  };

  private readonly send = (session: http2.ClientHttp2Session): void => {
    if (this.over) return;
    let up: http2.ClientHttp2Stream;
    try {
      up = session.request(this.headers, { endStream: this.endStream, waitForTrailers: !this.endStream });
    } catch (err) {
      return this.fail(appFailure(`HTTP/2 request to the app failed: ${messageOf(err)}`));
    }
    this.up = up;
    up.on('response', this.onResponse);
    up.on('trailers', this.onResTrailers);
    up.on('error', this.onUpError);
    up.on('close', this.onUpClose);
    if (!this.endStream) {
      up.on('wantTrailers', this.onUpWantTrailers);
      this.down.pipe(up);
    }
  };

  private readonly onReqTrailers = (trailers: http2.IncomingHttpHeaders): void => {
    this.reqTrailers = trailers;
  };

  private readonly onUpWantTrailers = (): void => {
    this.up?.sendTrailers(this.reqTrailers === undefined ? NO_TRAILERS : copyTrailers(this.reqTrailers));
  };

  private readonly onResponse = (headers: http2.IncomingHttpHeaders, flags: number): void => {
    if (this.over) return;
    const down = this.down;
    const status = Number(headers[':status'] ?? 0);
    const end = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const out: http2.OutgoingHttpHeaders = { ':status': status };
    for (const name in headers) {
      if (name.startsWith(':') || SKIP_RESPONSE.has(name)) continue;
      out[name] = headers[name];
    }
    try {
      down.respond(out, { endStream: end, waitForTrailers: !end });
    } catch (err) {
      this.up?.close(NGHTTP2_CANCEL);
      return this.fail(appFailure(`unusable response from the app: ${messageOf(err)}`));
    }
    this.started = true;
    this.status = status;
    this.grpcStatus = parseGrpcStatus(headers['grpc-status']);
    this.observer.responseStarted(status);
    if (end) return;
    down.on('wantTrailers', this.onDownWantTrailers);
    this.up!.pipe(down);
  };

  private readonly onResTrailers = (trailers: http2.IncomingHttpHeaders): void => {
    this.resTrailers = trailers;
    this.grpcStatus ??= parseGrpcStatus(trailers['grpc-status']);
  };

  private readonly onDownWantTrailers = (): void => {
    this.down.sendTrailers(this.resTrailers === undefined ? NO_TRAILERS : copyTrailers(this.resTrailers));
  };

  private readonly onUpError = (err: unknown): void => {
    if (this.over) return;
    const code = this.up?.rstCode;
    if (!this.started) {
      // A reset from the app is an HTTP/2 error, which the Rust proxy does not rescue either.
      if (code !== undefined && code !== 0 && isStreamReset(err)) return this.reset(code);
      return this.fail(appFailure(`HTTP/2 app stream failed: ${messageOf(err)}`));
    }
    this.reset(code !== undefined && code !== 0 ? code : NGHTTP2_INTERNAL_ERROR);
  };

  private readonly onUpClose = (): void => {
    if (this.over) return;
    const code = this.up?.rstCode ?? 0;
    if (!this.started) {
      if (code !== 0) return this.reset(code);
      return this.fail(appFailure('the app closed the HTTP/2 stream without a response'));
    }
    if (code !== 0) return this.reset(code);
    // The response ended cleanly; the client side closes once our end (and trailers) are sent.
    this.over = true;
    this.observer.finished(this.status, this.grpcStatus, undefined);
  };

  private readonly onDownClose = (): void => {
    const up = this.up;
    if (up !== undefined && !up.closed) up.close(NGHTTP2_CANCEL);
    if (this.over) return;
    this.over = true;
    const code = this.down.rstCode;
    this.observer.finished(this.status, this.grpcStatus, this.started && code !== 0 ? `h2(${h2ReasonName(code)})` : undefined);
  };

  private fail(resp: PolicyResponse): void {
    if (this.over) return;
    this.over = true;
    if (this.up !== undefined) this.down.unpipe(this.up);
    // The request body has nowhere to go; keep reading so the client's window stays open.
    this.down.resume();
    this.observer.failed(resp);
  }

  private reset(code: number): void {
    if (this.over) return;
    this.over = true;
    if (!this.down.destroyed) this.down.close(code);
    this.observer.finished(this.status, this.grpcStatus, `h2(${h2ReasonName(code)})`);
  }
}

function isStreamReset(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_HTTP2_STREAM_ERROR';
}

/** Received trailers minus pseudo-headers, ready to send again. */
function copyTrailers(t: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const name in t) if (!name.startsWith(':')) out[name] = t[name];
  return out;
}
