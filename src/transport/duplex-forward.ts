// Bidirectional byte forwarding between two sockets with half-close and reset propagation.
import type net from 'node:net';
import { errnoOf } from '../core/errors.js';

export interface ForwardResult {
  /** The first error either socket reported, if any. */
  readonly error?: Error;
  /** Its errno, e.g. ECONNRESET. */
  readonly errno?: string;
  /** Which socket reported `error`. */
  readonly errorSide?: 'a' | 'b';
  /** Bytes read from a (and handed to b). */
  readonly aToB: number;
  /** Bytes read from b (and handed to a). */
  readonly bToA: number;
}

/**
 * Aborts a socket so its peer sees a reset, not a clean FIN that could pass for the end of
 * the stream. TLS sockets (no raw TCP handle) can only be destroyed.
 */
export function abortSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/** Both directions ran to completion: FIN received and our own FIN flushed. */
function finishedCleanly(s: net.Socket): boolean {
  return s.readableEnded && s.writableFinished;
}

/**
 * Pipes a ⇄ b until both sockets close, and resolves (never rejects) with what happened.
 *
 * Streaming is `pipe` in both directions, so backpressure pauses the faster reader. An EOF on
 * one side becomes end() (a FIN) on the other while the reverse direction keeps flowing
 * (sockets should be created with allowHalfOpen). An error, or a close before both
 * directions finished, resets the other socket. Callers must not read from a or b meanwhile.
 */
export function forwardDuplex(a: net.Socket, b: net.Socket): Promise<ForwardResult> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    let errorSide: 'a' | 'b' | undefined;
    let open = 2;

    const settle = (): void => {
      const result: { -readonly [K in keyof ForwardResult]: ForwardResult[K] } = {
        aToB: a.bytesRead,
        bToA: b.bytesRead,
      };
      if (error !== undefined) {
        result.error = error;
        const errno = errnoOf(error);
        if (errno !== undefined) result.errno = errno;
        if (errorSide !== undefined) result.errorSide = errorSide;
      }
      resolve(result);
    };
    const onErrorA = (err: Error): void => {
      if (error === undefined) {
        error = err;
        errorSide = 'a';
      }
      abortSocket(b);
    };
    const onErrorB = (err: Error): void => {
      if (error === undefined) {
        error = err;
        errorSide = 'b';
      }
      abortSocket(a);
    };
    const onCloseA = (): void => {
      if (!finishedCleanly(a)) abortSocket(b);
      if (--open === 0) settle();
    };
    const onCloseB = (): void => {
      if (!finishedCleanly(b)) abortSocket(a);
      if (--open === 0) settle();
    };

    // Error handlers stay attached for good: a late error must never be unhandled.
    a.on('error', onErrorA);
    b.on('error', onErrorB);
    if (a.closed) onCloseA();
    else a.once('close', onCloseA);
    if (b.closed) onCloseB();
    else b.once('close', onCloseB);
    if (a.destroyed || b.destroyed) return;
    a.pipe(b);
    b.pipe(a);
  });
}
