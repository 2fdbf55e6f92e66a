// One attempt's HTTP/2 stream to an endpoint, relayed to the app's stream: the response head goes
// to its owner for a retry decision (a gRPC status may be peeked in trailers that follow at most
// one DATA chunk, as upstream's PeekTrailersBody), then body and trailers stream with backpressure;
// resets pass through in both directions. The peek waits for the first frame only; trailers after
// a DATA chunk count when they are already there (upstream's now_or_never), so streams never stall.
import http2 from 'node:http2';
import { messageOf } from '../../core/errors.js';
import { grpcCode } from '../http/response-class.js';
import { trailersOf, type OutgoingHeaders } from './headers.js';
import { parseGrpcStatus } from './retry-policy.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_FLAG_END_STREAM } = http2.constants;
const NO_TRAILERS: http2.OutgoingHttpHeaders = Object.freeze({});

/** What the owner does with a head (or a peeked unary response). */
export const D_COMMIT = 0;
export const D_RETRY = 1;
export const D_PEEK = 2;
export type HeadDecision = typeof D_COMMIT | typeof D_RETRY | typeof D_PEEK;

export interface UpstreamOwner {
  /** The response head; D_PEEK only when the head did not end the stream. */
  onHead(s: UpstreamStream, status: number, grpcStatus: number | undefined, end: boolean): HeadDecision;
  /** Trailers (or the end) of a peeked response: D_RETRY drops it, anything else relays it. */
  onPeeked(s: UpstreamStream, status: number, grpcStatus: number | undefined): HeadDecision;
  /** The headers to answer the app with (the response is being relayed from now on). */
  responseFor(s: UpstreamStream, status: number, headers: http2.IncomingHttpHeaders): OutgoingHeaders;
  /** The stream failed before a response was relayed (`rstCode` 0: not a stream reset). */
  onFailed(s: UpstreamStream, rstCode: number, reason: string): void;
  /** The relayed response ended: cleanly (`rstCode` 0) or by a reset passed on to the app. */
  onDone(s: UpstreamStream, rstCode: number): void;
}

const P_HEAD = 0;
const P_PEEK = 1;
const P_RELAY = 2;
const P_OVER = 3;

export class UpstreamStream {
  status = 0;
  grpcStatus: number | undefined = undefined;
  /** The grpc-status as the response is classified by (response-class.ts): headers, else trailers. */
  classCode: number | undefined = undefined;
  private phase = P_HEAD;
  private head: http2.IncomingHttpHeaders | undefined;
  private headEnd = false;
  private peeked: Buffer | undefined;
  private upEnded = false;
  private trailers: http2.IncomingHttpHeaders | undefined;
  /** Trailers the owner wants instead of the endpoint's (a gRPC error mid-response). */
  private errorTrailers: http2.OutgoingHttpHeaders | undefined;
  private peekCheck: NodeJS.Immediate | undefined;

  constructor(
    private readonly owner: UpstreamOwner,
    readonly up: http2.ClientHttp2Stream,
    private readonly down: http2.ServerHttp2Stream,
  ) {
    up.on('response', this.onResponse);
    up.on('data', this.onData);
    up.on('trailers', this.onTrailers);
    up.once('end', this.onEnd);
    up.on('error', this.onError);
    up.once('close', this.onClose);
  }

  /** The response reached the app (its head at least). */
  get relaying(): boolean {
    return this.phase === P_RELAY;
  }

  /** Drops the attempt (retry, timeout, client gone): the endpoint's stream is cancelled. */
  cancel(): void {
    if (this.phase === P_OVER) return;
    this.phase = P_OVER;
    if (this.peekCheck !== undefined) clearImmediate(this.peekCheck);
    this.closeUp(NGHTTP2_CANCEL);
  }

  /**
   * Ends a relayed response early: a gRPC response gets `trailers` (its status), others a reset.
   * Returns false when the response was not relaying.
   */
  abortRelay(trailers: http2.OutgoingHttpHeaders | undefined): boolean {
    if (this.phase !== P_RELAY) return false;
    this.phase = P_OVER;
    this.closeUp(NGHTTP2_CANCEL);
    const down = this.down;
    if (down.destroyed || down.closed) return true;
    if (trailers !== undefined && !this.headEnd && !down.writableEnded) {
      this.errorTrailers = trailers;
      down.end();
    } else down.close(NGHTTP2_CANCEL);
    return true;
  }

  private closeUp(code: number): void {
    const up = this.up;
    up.pause();
    if (!up.closed && !up.destroyed) up.close(code);
  }

  private readonly onResponse = (headers: http2.IncomingHttpHeaders, flags: number): void => {
    if (this.phase !== P_HEAD) return;
    const status = Number(headers[':status'] ?? 0);
    // Interim (1xx) heads are not relayed: node's server sends its own 100-continue.
    if (status < 200) return;
    this.status = status;
    this.head = headers;
    this.headEnd = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    this.grpcStatus = parseGrpcStatus(headers['grpc-status']);
    this.classCode = grpcCode(headers['grpc-status']);
    const d = this.owner.onHead(this, status, this.grpcStatus, this.headEnd);
    if (this.phase !== P_HEAD) return;
    if (d === D_RETRY) return this.cancel();
    if (d === D_PEEK && !this.headEnd) {
      this.phase = P_PEEK;
      return;
    }
    this.commit();
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.phase === P_RELAY) {
      if (!this.down.write(chunk)) this.up.pause();
    } else if (this.phase === P_PEEK) {
      if (this.peeked === undefined) {
        this.peeked = chunk;
        // What arrived with this chunk is handled by then; nothing else is waited for.
        this.peekCheck = setImmediate(this.onPeekCheck);
      } else {
        // More than one DATA chunk: not a unary response whose trailers could be peeked.
        this.commit();
        this.onData(chunk);
      }
    }
  };

  private readonly onTrailers = (t: http2.IncomingHttpHeaders): void => {
    this.trailers = t;
    this.grpcStatus ??= parseGrpcStatus(t['grpc-status']);
    this.classCode ??= grpcCode(t['grpc-status']);
    if (this.phase === P_PEEK) this.decidePeeked();
  };

  private readonly onEnd = (): void => {
    this.upEnded = true;
    if (this.phase === P_PEEK) this.decidePeeked();
    else if (this.phase === P_RELAY && !this.down.writableEnded) this.down.end();
  };

  private readonly onPeekCheck = (): void => {
    this.peekCheck = undefined;
    if (this.phase === P_PEEK) this.decidePeeked();
  };

  private decidePeeked(): void {
    if (this.peekCheck !== undefined) {
      clearImmediate(this.peekCheck);
      this.peekCheck = undefined;
    }
    if (this.owner.onPeeked(this, this.status, this.grpcStatus) === D_RETRY) return this.cancel();
    if (this.phase === P_PEEK) this.commit();
  }

  private commit(): void {
    const down = this.down;
    const headers = this.owner.responseFor(this, this.status, this.head!);
    if (down.destroyed || down.closed) return this.cancel();
    this.phase = P_RELAY;
    try {
      down.respond({ ...headers, ':status': this.status }, { endStream: this.headEnd, waitForTrailers: !this.headEnd });
    } catch (err) {
      this.phase = P_OVER;
      this.closeUp(NGHTTP2_CANCEL);
      this.owner.onFailed(this, 0, `unusable response from the endpoint: ${messageOf(err)}`);
      return;
    }
    if (this.headEnd) return;
    down.on('wantTrailers', this.onWantTrailers);
    down.on('drain', this.onDrain);
    const p = this.peeked;
    this.peeked = undefined;
    if (p !== undefined) down.write(p);
    if (this.upEnded) down.end();
  }

  private readonly onDrain = (): void => {
    if (this.phase === P_RELAY) this.up.resume();
  };

  private readonly onWantTrailers = (): void => {
    const down = this.down;
    if (down.destroyed) return;
    try {
      down.sendTrailers(this.errorTrailers ?? (this.trailers === undefined ? NO_TRAILERS : trailersOf(this.trailers)));
    } catch {
      // Reset meanwhile.
    }
  };

  private readonly onError = (): void => {
    // The close handler reports the outcome (node emits close after error).
  };

  private readonly onClose = (): void => {
    const code = this.up.rstCode ?? 0;
    const phase = this.phase;
    if (phase === P_OVER) return;
    if (phase === P_RELAY) {
      this.phase = P_OVER;
      if (code !== 0 || !this.upEnded) {
        const down = this.down;
        const rst = code !== 0 ? code : NGHTTP2_INTERNAL_ERROR;
        if (!down.destroyed && !down.closed) down.close(rst);
        this.owner.onDone(this, rst);
      } else this.owner.onDone(this, 0);
      return;
    }
    this.phase = P_OVER;
    this.owner.onFailed(this, code, code !== 0 ? `HTTP/2 stream reset by the endpoint (code ${code})` : 'the endpoint closed the HTTP/2 stream without a response');
  }
}
