// Reads the transport header off a decrypted direct connection within a deadline, never reading past it.
import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { TransportHeaderDecoder, type TransportHeader } from '../../transport/transport-header.js';

export type HeaderRead =
  | { readonly kind: 'header'; readonly header: TransportHeader; readonly rest: Buffer }
  | { readonly kind: 'error'; readonly reason: string };

export interface ReadHeaderOptions {
  /** LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT. */
  readonly timeoutMs: number;
  readonly clock?: Clock;
}

/**
 * Resolves (never rejects) with the header, or why there is none: timeout, EOF part-way,
 * a bad header, or a failed stream. Each read asks for at most the bytes the decoder still
 * wants, so the application stream stays in `stream`'s buffer exactly as sent (`rest` is
 * always empty here) and an EOF right behind the header is not consumed either. On return
 * no listener of ours is left on `stream`; the caller owns it (and closes it on error).
 */
export function readTransportHeader(stream: Duplex, opts: ReadHeaderOptions): Promise<HeaderRead> {
  return new Promise((resolve) => {
    new HeaderReader(stream, opts, resolve).start();
  });
}

class HeaderReader {
  private readonly decoder = new TransportHeaderDecoder();
  private cancelTimer: () => void = () => undefined;
  private done = false;

  constructor(
    private readonly stream: Duplex,
    private readonly opts: ReadHeaderOptions,
    private readonly resolve: (r: HeaderRead) => void,
  ) {}

  start(): void {
    const { stream } = this;
    if (stream.destroyed) {
      this.finish({ kind: 'error', reason: 'connection closed before sending a transport header' });
      return;
    }
    this.cancelTimer = (this.opts.clock ?? systemClock).setTimer(this.opts.timeoutMs, this.onTimeout);
    stream.on('readable', this.onReadable);
    stream.on('end', this.onEnd);
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
  }

  private readonly onReadable = (): void => {
    const { stream, decoder } = this;
    while (!this.done) {
      const available = stream.readableLength;
      if (available === 0) {
        // Lets a queued EOF surface as 'end' (Node emits it only from a read on an empty buffer).
        stream.read(0);
        return;
      }
      const chunk = stream.read(Math.min(available, decoder.wanted)) as Buffer | null;
      if (chunk === null) return;
      const result = decoder.feed(chunk);
      if (result.kind !== 'incomplete') this.finish(result);
    }
  };

  private readonly onEnd = (): void => {
    this.finish({ kind: 'error', reason: this.decoder.endReason() });
  };

  private readonly onError = (err: Error): void => {
    this.finish({ kind: 'error', reason: `connection failed while reading the transport header: ${messageOf(err)}` });
  };

  private readonly onClose = (): void => {
    this.finish({ kind: 'error', reason: this.decoder.endReason() });
  };

  private readonly onTimeout = (): void => {
    this.finish({ kind: 'error', reason: `reading the transport header timed out after ${this.opts.timeoutMs}ms` });
  };

  private finish(result: HeaderRead): void {
    if (this.done) return;
    this.done = true;
    this.cancelTimer();
    const { stream } = this;
    stream.off('readable', this.onReadable);
    stream.off('end', this.onEnd);
    stream.off('error', this.onError);
    stream.off('close', this.onClose);
    this.resolve(result);
  }
}
