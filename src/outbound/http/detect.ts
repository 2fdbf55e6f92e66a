// Outbound HTTP detection (spec §3.2): the shared single-read detector, with the outbound rule
// that a read timeout means opaque TCP rather than an error.
import type net from 'node:net';
import type { Clock } from '../../core/clock.js';
import { detectHttp } from '../../inbound/http/detect-http.js';
import type { Logger } from '../../log/logger.js';

/** Upstream's error for a peer that closed before sending anything. */
export const DETECT_EOF_MESSAGE = 'socket closed before protocol detection';

export type OutboundDetectKind =
  | 'http1'
  /** The HTTP/2 connection preface. */
  | 'h2'
  /** Not HTTP, or nothing arrived within OUTBOUND_DETECT_TIMEOUT: forward as TCP. */
  | 'opaque'
  /** The app closed before sending a byte ({@link DETECT_EOF_MESSAGE}): close the connection. */
  | 'eof'
  /** The socket errored or was destroyed meanwhile. */
  | 'closed';

export interface OutboundDetected {
  readonly kind: OutboundDetectKind;
  /** Already back at the front of the socket; only for looking at. */
  readonly buffered: Buffer;
  readonly peerEnded: boolean;
  /** Detection ended by the timeout (then kind is 'opaque'). */
  readonly timedOut: boolean;
}

export interface DetectOutboundOptions {
  readonly timeoutMs: number;
  readonly clock?: Clock;
  readonly log?: Logger;
}

export async function detectOutboundHttp(socket: net.Socket, opts: DetectOutboundOptions): Promise<OutboundDetected> {
  const d = await detectHttp(socket, opts.clock === undefined ? { timeoutMs: opts.timeoutMs } : { timeoutMs: opts.timeoutMs, clock: opts.clock });
  if (d.kind === 'timeout') {
    opts.log?.debug('Continuing after timeout', { timeout_ms: opts.timeoutMs });
    return { kind: 'opaque', buffered: d.buffered, peerEnded: d.peerEnded, timedOut: true };
  }
  return { kind: d.kind, buffered: d.buffered, peerEnded: d.peerEnded, timedOut: false };
}
