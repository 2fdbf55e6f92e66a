// TLS detection on an accepted socket: read until the first record shows a ClientHello (or not), then put the bytes back.
import type net from 'node:net';
import { systemClock, type Clock } from '../core/clock.js';
import { parseClientHello, type ClientHelloResult } from './client-hello.js';
import { TlsDetectClosed, TlsDetectTimeout } from './errors.js';

/** How much detection buffers before giving up on finding a ClientHello (spec §3.1). */
export const DETECT_BUFFER_CAPACITY = 8192;

export type TlsDetectResult =
  | Extract<ClientHelloResult, { kind: 'client-hello' }>
  | { readonly kind: 'not-tls' }
  /** The peer closed before sending a byte. */
  | { readonly kind: 'eof' };

export interface TlsDetected {
  readonly result: TlsDetectResult;
  /**
   * What detection read. These bytes are already back at the front of the socket's read
   * buffer, so whoever reads the socket next (a pipe, `new tls.TLSSocket(socket)`, HTTP
   * detection) sees them first; `buffered` is only for looking at. Never unshift it again.
   */
  readonly buffered: Buffer;
  /** The peer has half-closed; its EOF is queued behind `buffered`. */
  readonly peerEnded: boolean;
}

export interface DetectTlsOptions {
  readonly timeoutMs: number;
  readonly clock?: Clock;
  /** Defaults to DETECT_BUFFER_CAPACITY; smaller values are for tests. */
  readonly capacity?: number;
}

const NOT_TLS: TlsDetectResult = Object.freeze({ kind: 'not-tls' });
const EOF: TlsDetectResult = Object.freeze({ kind: 'eof' });
const EMPTY = Buffer.alloc(0);

/**
 * Reads the first bytes of `socket` (accepted with `pauseOnConnect`, or otherwise not yet read)
 * and classifies them. Node has no MSG_PEEK, so this reads and then returns the bytes to the
 * socket with `unshift` in the same tick, before any EOF can be emitted; that keeps the socket
 * exactly as if it had only been peeked, including a FIN that arrived during detection.
 *
 * Rejects with TlsDetectTimeout when nothing conclusive arrives within `timeoutMs` (the caller
 * closes the connection, spec §3.1), or TlsDetectClosed if the socket errors or is destroyed.
 */
export function detectTls(socket: net.Socket, opts: DetectTlsOptions): Promise<TlsDetected> {
  return new Promise((resolve, reject) => {
    new Detection(socket, opts, resolve, reject).start();
  });
}

class Detection {
  private buffered: Buffer = EMPTY;
  private cancelTimer: () => void = () => undefined;
  private readonly capacity: number;

  constructor(
    private readonly socket: net.Socket,
    private readonly opts: DetectTlsOptions,
    private readonly resolve: (d: TlsDetected) => void,
    private readonly reject: (err: Error) => void,
  ) {
    this.capacity = opts.capacity ?? DETECT_BUFFER_CAPACITY;
  }

  start(): void {
    const { socket } = this;
    if (socket.destroyed) {
      this.reject(new TlsDetectClosed());
      return;
    }
    const clock = this.opts.clock ?? systemClock;
    this.cancelTimer = clock.setTimer(this.opts.timeoutMs, this.onTimeout);
    socket.on('readable', this.onReadable);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private readonly onReadable = (): void => {
    const { socket } = this;
    for (;;) {
      const available = socket.readableLength;
      if (available === 0) break;
      // Reading an exact, available length never makes the stream schedule its 'end'.
      const chunk = socket.read(Math.min(available, this.capacity - this.buffered.length)) as Buffer | null;
      if (chunk === null) break;
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      const parsed = parseClientHello(this.buffered);
      if (parsed.kind === 'client-hello' || parsed.kind === 'not-tls') return this.finish(parsed);
      // The buffer is full and still no complete hello: spec §3.1 says "no SNI".
      if (this.buffered.length >= this.capacity) return this.finish(NOT_TLS);
    }
    if (readSideEnded(socket)) this.finish(this.buffered.length === 0 ? EOF : NOT_TLS);
  };

  private readonly onEnd = (): void => {
    // Only reachable with nothing buffered (see onReadable); otherwise bytes would be lost.
    if (this.buffered.length === 0) this.finish(EOF);
    else this.fail(new TlsDetectClosed());
  };

  private readonly onTimeout = (): void => {
    this.fail(new TlsDetectTimeout(this.opts.timeoutMs));
  };

  private readonly onError = (err: Error): void => {
    this.fail(new TlsDetectClosed({ cause: err }));
  };

  private readonly onClose = (): void => {
    this.fail(new TlsDetectClosed());
  };

  private stop(): void {
    this.cancelTimer();
    const { socket } = this;
    socket.off('readable', this.onReadable);
    socket.off('end', this.onEnd);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
  }

  private finish(result: TlsDetectResult): void {
    this.stop();
    const peerEnded = readSideEnded(this.socket);
    if (this.buffered.length > 0) this.socket.unshift(this.buffered);
    this.resolve({ result, buffered: this.buffered, peerEnded });
  }

  private fail(err: Error): void {
    this.stop();
    if (this.buffered.length > 0 && !this.socket.destroyed && !this.socket.readableEnded) this.socket.unshift(this.buffered);
    this.reject(err);
  }
}

/**
 * Whether the peer's EOF has reached the stream, even if 'end' has not been emitted yet.
 * Streams expose only `readableEnded` (after 'end'), which is too late to put bytes back in
 * front of the EOF, so this reads the long-stable `_readableState.ended` flag (as `ws` does).
 */
function readSideEnded(socket: net.Socket): boolean {
  const state = (socket as unknown as { _readableState?: { ended?: unknown } })._readableState;
  return state?.ended === true || socket.readableEnded;
}
