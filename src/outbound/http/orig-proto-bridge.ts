// The l5d-orig-proto upgrade as a virtual upstream connection: the HTTP/1 engine writes an
// HTTP/1 request into it and reads an HTTP/1 response from it, while underneath each request is
// one stream on the endpoint's shared HTTP/2 connection (spec §4.4, §5.7).
import { Duplex } from 'node:stream';
import type http2 from 'node:http2';
import { constants as h2c } from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import { ChunkedDecoder, LengthDecoder, RequestParser, type BodyDecoder, type RequestHead } from '../../http/h1/index.js';
import type { H2Endpoint } from './h2-session.js';
import {
  DowngradedH2Error,
  F_CHUNKED,
  F_EOF,
  F_NONE,
  h2RequestHeaders,
  http1InterimHead,
  http1ResponseHead,
  type Framing,
} from './h2-translate.js';

/** What a bridge needs to know about its endpoint; resolved again for every request. */
export interface BridgeEndpoint {
  /** The endpoint's shared HTTP/2 connection manager. */
  h2(): H2Endpoint;
  readonly authorityOverride: string | undefined;
  /** `:authority` for a request that names none. */
  readonly fallbackAuthority: string;
}

const S_HEAD = 0;
/** Waiting for an HTTP/2 session before the stream can be opened. */
const S_SESSION = 1;
const S_BODY = 2;
/** The request went out completely; its response may still be coming. */
const S_SENT = 3;

const CRLF = Buffer.from('\r\n', 'latin1');
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
/** The engine already enforced its own head limits; these only bound a misuse. */
const BRIDGE_LIMITS = { maxHeadBytes: 1 << 20, maxHeaders: 10_000 } as const;

function ignore(): void {}

/**
 * Created by the h2 pool's connect(); the engine treats it as a socket (pooled, reused for the
 * next request once both messages ended). Stream resets before the response head become an
 * error on this "socket" (the engine answers 502); after it, the client connection is reset.
 */
export class OrigProtoBridge extends Duplex {
  private state = S_HEAD;
  private readonly parser = new RequestParser(BRIDGE_LIMITS);
  private readonly length = new LengthDecoder();
  private readonly chunked = new ChunkedDecoder();
  private body: BodyDecoder | undefined;
  private req: RequestHead | undefined;
  private stream: http2.ClientHttp2Stream | undefined;
  private h2: H2Endpoint | undefined;
  private framing: Framing = F_NONE;
  private responseDone = true;
  /** This request's 100 Continue was answered here (the peer's is then not relayed again). */
  private continued = false;
  /** A write callback held back until the stream drains (or the session arrives). */
  private held: ((err?: Error | null) => void) | undefined;
  private heldChunk: Buffer | undefined;
  private heldOffset = 0;

  constructor(private readonly endpoint: BridgeEndpoint) {
    super({ allowHalfOpen: true });
  }

  // The pool treats its sockets as net.Sockets.
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.process(chunk, 0, cb);
  }

  override _read(): void {
    const s = this.stream;
    if (s !== undefined && s.isPaused()) s.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.dropStream(h2c.NGHTTP2_CANCEL);
    const held = this.held;
    this.held = this.heldChunk = undefined;
    held?.();
    cb(err);
  }

  // --- request: HTTP/1 bytes in, HTTP/2 stream out ---

  private process(chunk: Buffer, off: number, cb: (err?: Error | null) => void): void {
    if (this.state === S_SENT) {
      // The engine writes again only once it has relayed the whole response: this is the next request.
      this.retire();
      this.state = S_HEAD;
    }
    if (this.state === S_HEAD) {
      const r = this.parser.feed(chunk, off);
      if (r.kind === 'incomplete') return cb();
      if (r.kind === 'error') return cb(new Error(`orig-proto upgrade: unusable request head: ${r.reason}`));
      this.req = r.head;
      off += r.consumed;
      this.state = S_SESSION;
      const h2 = (this.h2 = this.endpoint.h2());
      const session = h2.current();
      if (session === undefined) {
        this.hold(chunk, off, cb);
        h2.acquire().then(this.onSession, this.onSessionError);
        return;
      }
      if (this.open(session, cb)) this.sendBody(chunk, off, cb);
      return;
    }
    this.sendBody(chunk, off, cb);
  }

  private sendBody(chunk: Buffer, off: number, cb: (err?: Error | null) => void): void {
    if (this.state === S_BODY) this.bodyBytes(chunk, off, cb);
    else cb();
  }

  private readonly onSession = (session: http2.ClientHttp2Session): void => {
    const cb = this.held;
    const chunk = this.heldChunk;
    if (cb === undefined || chunk === undefined || this.state !== S_SESSION) return;
    this.held = this.heldChunk = undefined;
    if (this.open(session, cb)) this.sendBody(chunk, this.heldOffset, cb);
  };

  private readonly onSessionError = (err: unknown): void => {
    if (this.state !== S_SESSION) return;
    this.destroy(err instanceof Error ? err : new Error(String(err)));
  };

  /** Opens the request's stream; false when that failed (the bridge is then destroyed). */
  private open(session: http2.ClientHttp2Session, cb: (err?: Error | null) => void): boolean {
    const req = this.req!;
    const ep = this.endpoint;
    this.body = req.chunked ? this.chunked.reset() : req.contentLength > 0 ? this.length.reset(req.contentLength) : undefined;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(h2RequestHeaders(req, ep.authorityOverride, ep.fallbackAuthority), { endStream: this.body === undefined });
    } catch (err) {
      cb(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    this.stream = stream;
    this.responseDone = false;
    // Like hyper's server, invite the body once it has somewhere to go: the peer proxy does not
    // relay its app's 100 Continue over HTTP/2, so the client would otherwise wait for its own timeout.
    this.continued = req.expectContinue && req.version === 11 && this.body !== undefined;
    if (this.continued) this.push(CONTINUE);
    this.h2!.streamOpened();
    stream.on('error', ignore);
    stream.on('response', this.onResponse);
    stream.on('headers', this.onInterim);
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onClose);
    stream.on('drain', this.onDrain);
    this.state = this.body === undefined ? S_SENT : S_BODY;
    return true;
  }

  private bodyBytes(chunk: Buffer, off: number, cb: (err?: Error | null) => void): void {
    const dec = this.body!;
    // The peer may have answered and closed the stream first: the rest of the body is dropped.
    const st = this.stream;
    const s = st !== undefined && !st.destroyed && !st.writableEnded ? st : undefined;
    let ok = true;
    if (dec === this.chunked) {
      const c = this.chunked;
      while (off < chunk.length && !c.done) {
        const n = c.feedRun(chunk, off, chunk.length);
        if (n < 0) return cb(new Error(c.error ?? 'invalid chunked request body'));
        if (c.runIsData && n > 0 && s !== undefined) ok = s.write(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n)) && ok;
        off += n;
      }
    } else {
      const n = dec.feed(chunk, off, chunk.length);
      if (n > 0 && s !== undefined) ok = s.write(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n));
    }
    if (dec.done) {
      this.state = S_SENT;
      s?.end();
    }
    if (ok || s === undefined) cb();
    else this.hold(chunk, chunk.length, cb);
  }

  private hold(chunk: Buffer, off: number, cb: (err?: Error | null) => void): void {
    this.held = cb;
    this.heldChunk = chunk;
    this.heldOffset = off;
  }

  private readonly onDrain = (): void => {
    if (this.state === S_SESSION) return;
    const cb = this.held;
    this.held = this.heldChunk = undefined;
    cb?.();
  };

  // --- response: HTTP/2 in, HTTP/1 bytes out ---

  private readonly onInterim = (headers: IncomingHttpHeaders, _flags: number, raw?: string[]): void => {
    const status = Number(headers[':status']);
    if (status === 100 && this.continued) return;
    if (status >= 100 && status < 200 && status !== 101) this.push(http1InterimHead(status, raw ?? rawOf(headers)));
  };

  private readonly onResponse = (headers: IncomingHttpHeaders, flags: number, raw?: string[]): void => {
    const status = Number(headers[':status']);
    const endStream = (flags & h2c.NGHTTP2_FLAG_END_STREAM) !== 0;
    const r = http1ResponseHead(status, raw ?? rawOf(headers), this.req!, endStream);
    this.framing = r.framing;
    if (!this.push(r.head)) this.stream?.pause();
  };

  private readonly onData = (chunk: Buffer): void => {
    const framing = this.framing;
    if (framing === F_NONE) return;
    let more: boolean;
    if (framing === F_CHUNKED) {
      if (chunk.length === 0) return;
      this.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'));
      this.push(chunk);
      more = this.push(CRLF);
    } else more = this.push(chunk);
    if (!more) this.stream?.pause();
  };

  private readonly onEnd = (): void => {
    this.responseDone = true;
    if (this.framing === F_CHUNKED) this.push(LAST_CHUNK);
    else if (this.framing === F_EOF) this.push(null);
  };

  private readonly onClose = (): void => {
    const s = this.stream;
    if (s === undefined) return;
    this.detach(s);
    this.h2?.streamClosed();
    if (this.responseDone) {
      // A body write waiting for the stream to drain: the rest of the body is dropped now.
      this.onDrain();
      return;
    }
    const code = s.rstCode;
    this.destroy(
      code !== undefined && code !== h2c.NGHTTP2_NO_ERROR
        ? new DowngradedH2Error(code)
        : new Error('HTTP/2 stream closed before the response completed'),
    );
  };

  private detach(s: http2.ClientHttp2Stream): void {
    s.off('response', this.onResponse);
    s.off('headers', this.onInterim);
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('close', this.onClose);
    s.off('drain', this.onDrain);
    if (this.stream === s) this.stream = undefined;
  }

  /**
   * The previous request's stream, whose response the engine has relayed in full (its framing
   * ended) although HTTP/2 may not have closed it yet: it finishes on its own from here.
   */
  private retire(): void {
    const s = this.stream;
    if (s === undefined) return;
    this.detach(s);
    const h2 = this.h2!;
    s.once('close', () => h2.streamClosed());
  }

  private dropStream(code: number): void {
    const s = this.stream;
    if (s === undefined) return;
    this.detach(s);
    this.h2?.streamClosed();
    if (!s.closed && !s.destroyed) s.close(code);
  }
}

/** Older Nodes pass no raw list: rebuild one from the headers object (set-cookie stays split). */
function rawOf(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}
