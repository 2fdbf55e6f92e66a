// An HTTP/2 request body on its way to the current attempt's stream: streamed with backpressure,
// trailers passed on, and (for a request with a retry policy) kept up to max_request_bytes so a
// later attempt can replay it (upstream ReplayBody: past the limit, no further attempt).
import type http2 from 'node:http2';

const NO_TRAILERS: http2.OutgoingHttpHeaders = Object.freeze({});

export class RequestBody {
  /** The body ended with the request headers (END_STREAM on HEADERS). */
  readonly empty: boolean;
  private chunks: Buffer[] = [];
  private bytes = 0;
  private replayable: boolean;
  private started = false;
  private ended = false;
  private trailers: http2.OutgoingHttpHeaders | undefined;
  private sink: http2.ClientHttp2Stream | undefined;

  constructor(
    private readonly down: http2.ServerHttp2Stream,
    endStream: boolean,
    /** Undefined: the body is never replayed. */
    private readonly maxReplayBytes: number | undefined,
  ) {
    this.empty = endStream;
    this.ended = endStream;
    this.replayable = maxReplayBytes !== undefined;
    if (!endStream) {
      down.pause();
      down.on('data', this.onData);
      down.once('end', this.onEnd);
      down.once('trailers', this.onTrailers);
    }
  }

  /** Whether another attempt can still get the whole body. */
  get canReplay(): boolean {
    return this.replayable || !this.started;
  }

  /** Sends the body (what was kept, then the rest as it comes) on `up`. */
  attach(up: http2.ClientHttp2Stream): void {
    this.sink = up;
    if (this.empty) return;
    up.on('wantTrailers', this.onWantTrailers);
    up.on('drain', this.onDrain);
    for (const c of this.chunks) up.write(c);
    if (this.ended) up.end();
    else this.down.resume();
  }

  /** The attempt is over: the body waits (paused) for the next one, if any. */
  detach(): void {
    const up = this.sink;
    if (up === undefined) return;
    this.sink = undefined;
    up.removeListener('wantTrailers', this.onWantTrailers);
    up.removeListener('drain', this.onDrain);
    if (!this.ended) this.down.pause();
  }

  /** Nobody will read the body any more: drop what was kept, and let the client's data drain. */
  discard(): void {
    this.detach();
    this.chunks = [];
    this.replayable = false;
    if (!this.ended) this.down.resume();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.started = true;
    if (this.replayable) {
      this.bytes += chunk.length;
      if (this.bytes > this.maxReplayBytes!) {
        this.replayable = false;
        this.chunks = [];
      } else this.chunks.push(chunk);
    }
    const up = this.sink;
    if (up === undefined) return;
    if (!up.write(chunk)) this.down.pause();
  };

  private readonly onDrain = (): void => {
    if (!this.ended) this.down.resume();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.sink?.end();
  };

  private readonly onTrailers = (t: http2.IncomingHttpHeaders): void => {
    const out: http2.OutgoingHttpHeaders = {};
    for (const name in t) if (name.charCodeAt(0) !== 0x3a) out[name] = t[name];
    this.trailers = out;
  };

  private readonly onWantTrailers = (): void => {
    const up = this.sink;
    if (up === undefined || up.destroyed) return;
    try {
      up.sendTrailers(this.trailers ?? NO_TRAILERS);
    } catch {
      // The stream was reset meanwhile; its close handler reports it.
    }
  };
}
