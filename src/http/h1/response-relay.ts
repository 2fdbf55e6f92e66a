// The response half of a forwarded exchange: parses the upstream's head, relays interim and
// final heads (hop-by-hop stripped, version fixed for HTTP/1.0 clients) and streams the body as
// received slices, with backpressure from the client.
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { ChunkedDecoder, EofDecoder, LengthDecoder, type BodyDecoder } from './body.js';
import { BODY_CHUNKED, BODY_EOF, BODY_LENGTH, BODY_NONE, BODY_TUNNEL, responseBodyKind } from './framing.js';
import type { ForwardDecision } from './handler.js';
import type { RequestHead, ResponseHead } from './head.js';
import type { HeadLimits } from './head-parser.js';
import { ResponseParser } from './parse-head.js';
import { rewriteHead, type RewriteOptions } from './rewrite-head.js';
import { httpDate } from './synthetic.js';
import type { SyntheticResponse } from './synthetic.js';
import { internalFailure } from './upstream-errors.js';

/** What the relay needs from the exchange that owns it. */
export interface RelayOwner {
  readonly client: net.Socket;
  /** The upstream socket, paused while the client is not keeping up. */
  readonly upstream: net.Socket | undefined;
  /** The whole request body has been forwarded. */
  requestDone(): boolean;
  /** The upstream's response is unusable (malformed, or an unexpected 101). */
  relayFailed(reason: string): void;
  /** A local problem (a hook or an edit threw) before the head was relayed. */
  relayError(resp: SyntheticResponse): void;
  /** The body broke after its head was relayed. */
  relayBroke(): void;
  /** A final head was written to the client. */
  relayStarted(status: number): void;
  /** A 101 / CONNECT 2xx head was written; rest: the bytes after it. */
  relayTunnel(rest: Buffer | undefined): void;
  /** The response is complete. */
  relayDone(): void;
  /** A final head arrived: true when the owner discards this attempt to retry (nothing was relayed). */
  retryResponse(res: ResponseHead): boolean;
}

export const R_HEAD = 0;
export const R_BODY = 1;
export const R_DONE = 2;

export class ResponseRelay {
  state = R_HEAD;
  /** A final head reached the client. */
  started = false;
  /** Any byte came from the upstream. */
  sawBytes = false;
  /** Nothing seen so far forbids reusing the upstream connection. */
  reusable = true;
  /** The client connection may carry another request after this response. */
  clientKeep = true;
  /** The response ended a request whose body the client may never send (Expect without 100). */
  closeEarly = false;
  private relayed100 = false;
  /** A replayed attempt: the client already got any interim responses it needed. */
  private quiet = false;
  private dechunk = false;
  private clientBlocked = false;
  private body: BodyDecoder | undefined;
  private req: RequestHead | undefined;
  private d: ForwardDecision | undefined;
  private readonly parser: ResponseParser;
  private readonly length = new LengthDecoder();
  private readonly chunked = new ChunkedDecoder();
  private readonly eofBody = new EofDecoder();

  constructor(
    private readonly owner: RelayOwner,
    limits: HeadLimits,
    private readonly clock: Clock,
  ) {
    this.parser = new ResponseParser(limits);
  }

  /** Prepares for an attempt's response; `replay` when an earlier attempt of the request was discarded. */
  reset(req: RequestHead, d: ForwardDecision, replay = false): void {
    this.req = req;
    this.d = d;
    this.state = R_HEAD;
    this.quiet = replay;
    this.started = this.sawBytes = this.closeEarly = this.dechunk = this.clientBlocked = false;
    if (!replay) this.relayed100 = false;
    this.reusable = this.clientKeep = true;
    this.body = undefined;
  }

  data(chunk: Buffer): void {
    if (this.state === R_DONE) {
      // Bytes after a complete response: not a connection to trust again.
      this.reusable = false;
      return;
    }
    this.sawBytes = true;
    if (this.state === R_BODY) return this.bodyBytes(chunk, 0);
    const client = this.owner.client;
    client.cork();
    this.headBytes(chunk);
    client.uncork();
  }

  /** The upstream sent FIN: true when that ends an EOF-delimited body (the response is then done). */
  eof(): boolean {
    if (this.state !== R_BODY || this.body !== this.eofBody) return false;
    this.eofBody.end();
    this.reusable = false;
    this.finish();
    return true;
  }

  clientDrained(): void {
    if (!this.clientBlocked) return;
    this.clientBlocked = false;
    this.owner.upstream?.resume();
  }

  private headBytes(chunk: Buffer): void {
    let off = 0;
    for (;;) {
      const r = this.parser.feed(chunk, off);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'error') return this.owner.relayFailed(`invalid response: ${r.reason}`);
      off += r.consumed;
      if (r.head.status < 200 && r.head.status !== 101) {
        if (!this.interim(r.head) || off >= chunk.length) return;
        continue;
      }
      if (!this.final(r.head, chunk, off)) return;
      break;
    }
    if (this.state === R_BODY) {
      if (off < chunk.length) this.bodyBytes(chunk, off);
      return;
    }
    if (off < chunk.length) this.reusable = false;
    this.finish();
  }

  /** 1xx other than 101: relayed to HTTP/1.1 clients (HTTP/1.0 ones must not get them). */
  private interim(res: ResponseHead): boolean {
    if (this.quiet) return true;
    if (res.status === 100) this.relayed100 = true;
    if (this.req!.version !== 11) return true;
    const head = this.rewrite(res, { edits: this.d!.responseEdits });
    if (head === undefined) return false;
    this.toClient(head);
    return true;
  }

  /** Relays a final head; false when the exchange ended here (tunnel hand-off or failure). */
  private final(res: ResponseHead, chunk: Buffer, off: number): boolean {
    const req = this.req!;
    const d = this.d!;
    const kind = responseBodyKind(res, req);
    if (typeof kind === 'string') {
      this.owner.relayFailed(kind);
      return false;
    }
    if (kind === BODY_TUNNEL) {
      // As in the Rust proxy: an upgrade keeps its connection headers; a CONNECT 2xx loses its framing.
      const head = this.rewrite(res, {
        keepHopByHop: true,
        dropContentLength: req.isConnect,
        dropTransferEncoding: req.isConnect,
        edits: d.responseEdits,
        date: httpDate(this.clock.now()),
      });
      if (head === undefined) return false;
      this.writeHead(res.status, head);
      this.owner.relayTunnel(off < chunk.length ? chunk.subarray(off) : undefined);
      return false;
    }
    if (this.owner.retryResponse(res)) return false;
    let hookClose: boolean;
    try {
      hookClose = d.onResponseHead?.(res, req) === true;
    } catch (err) {
      this.owner.relayError(internalFailure(err));
      return false;
    }
    const v10 = req.version === 10;
    let closeClient = hookClose || !req.keepAlive;
    if (req.expectContinue && !this.relayed100 && !this.owner.requestDone()) {
      // The client may never send a body it was not invited to send (hyper closes here too).
      closeClient = this.closeEarly = true;
      this.reusable = false;
    }
    // HTTP/1.0 clients cannot take chunked: they get the payload, delimited by EOF.
    this.dechunk = v10 && kind === BODY_CHUNKED;
    // An EOF-delimited body is relayed as it came (no length header added, as in the Rust proxy)
    // and the client connection closes after it: simpler than re-chunking, and just as correct.
    // A 1.0 response to a 1.0 client: no keep-alive left after stripping (hyper's fix_keep_alive).
    if (kind === BODY_EOF || this.dechunk || (v10 && res.version === 10)) closeClient = true;
    if (!res.keepAlive || kind === BODY_EOF || (res.hasTransferEncoding && res.hasContentLength)) this.reusable = false;
    this.clientKeep = !closeClient;
    const bodyless = req.isHead || res.status === 204 || res.status === 304;
    const head = this.rewrite(res, {
      dropTransferEncoding: bodyless || this.dechunk,
      // Transfer-Encoding overrides Content-Length, which must then go (RFC 9112 §6.3).
      dropContentLength: res.hasTransferEncoding,
      asHttp10: v10,
      connection: closeClient ? (v10 ? undefined : 'close') : v10 ? 'keep-alive' : undefined,
      edits: d.responseEdits,
      date: httpDate(this.clock.now()),
    });
    if (head === undefined) return false;
    this.writeHead(res.status, head);
    if (kind === BODY_NONE) {
      this.state = R_DONE;
      return true;
    }
    this.state = R_BODY;
    this.body =
      kind === BODY_LENGTH ? this.length.reset(res.contentLength) : kind === BODY_CHUNKED ? this.chunked.reset() : this.eofBody.reset();
    return true;
  }

  private rewrite(res: ResponseHead, opts: RewriteOptions): Buffer | undefined {
    try {
      return rewriteHead(res, opts);
    } catch (err) {
      this.owner.relayError(internalFailure(`response edit: ${messageOf(err)}`));
      return undefined;
    }
  }

  private writeHead(status: number, head: Buffer): void {
    this.started = true;
    this.toClient(head);
    this.owner.relayStarted(status);
  }

  private toClient(b: Buffer): void {
    if (!this.owner.client.write(b) && !this.clientBlocked) {
      this.clientBlocked = true;
      this.owner.upstream?.pause();
    }
  }

  private bodyBytes(chunk: Buffer, off: number): void {
    const len = chunk.length;
    if (this.dechunk) {
      const dec = this.chunked;
      while (off < len && !dec.done) {
        const n = dec.feedRun(chunk, off, len);
        if (n < 0) return this.owner.relayBroke();
        if (dec.runIsData && n > 0) this.toClient(chunk.subarray(off, off + n));
        off += n;
      }
      if (!dec.done) return;
    } else {
      const dec = this.body!;
      const n = dec.feed(chunk, off, len);
      if (n < 0) return this.owner.relayBroke();
      if (n > 0) this.toClient(n === len ? chunk : chunk.subarray(off, off + n));
      off += n;
      if (!dec.done) return;
    }
    if (off < len) this.reusable = false;
    this.finish();
  }

  private finish(): void {
    this.state = R_DONE;
    this.owner.relayDone();
  }
}
