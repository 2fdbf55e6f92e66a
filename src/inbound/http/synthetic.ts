// Synthetic answers of the inbound HTTP servers (spec §4.7): policy rejections and app failures,
// rendered for the HTTP/1 engine or written on an HTTP/2 stream (gRPC: 200 + grpc-status).
import http2 from 'node:http2';
import { ProxyError, errnoOf, messageOf } from '../../core/errors.js';
import type { SyntheticResponse as H1Synthetic } from '../../http/h1/index.js';
import type { SyntheticResponse as PolicyResponse } from '../../policy/inbound/index.js';

/** GrpcCode values the app-failure answers use (the policy module has the rejection ones). */
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** A connection attempt to the app failed: 504 / DEADLINE_EXCEEDED on timeout, else 502 / UNAVAILABLE. */
export function appConnectFailure(err: unknown): PolicyResponse {
  const timedOut = (err instanceof ProxyError && err.code === 'connect-timeout') || errnoOf(err) === 'ETIMEDOUT';
  return timedOut
    ? { status: 504, grpcStatus: DEADLINE_EXCEEDED, closeConnection: true, message: messageOf(err) }
    : { status: 502, grpcStatus: UNAVAILABLE, closeConnection: true, message: messageOf(err) };
}

/** The app broke the exchange before a response began (I/O error, early close, bad response). */
export function appFailure(reason: string): PolicyResponse {
  return { status: 502, grpcStatus: UNAVAILABLE, closeConnection: true, message: reason };
}

/** Policy answers in the HTTP/1 engine's shape. */
export function toH1Synthetic(r: PolicyResponse): H1Synthetic {
  return r.location === undefined
    ? { status: r.status, message: r.message, close: r.closeConnection }
    : { status: r.status, message: r.message, close: r.closeConnection, headers: [['location', r.location]] };
}

/**
 * Answers an HTTP/2 request locally: `content-length: 0`, and for gRPC requests HTTP 200 with
 * `content-type: application/grpc` and `grpc-status` (trailers-only). With `emitHeaders` (a
 * meshed client) `l5d-proxy-error` (and `grpc-message`) carry the reason, and closing answers
 * say `l5d-proxy-connection: close`. A closing answer then shuts the connection down gracefully
 * (GOAWAY), as the Rust server's client handle does. If a response already began, the stream is
 * reset instead.
 */
export function respondH2(stream: http2.ServerHttp2Stream, r: PolicyResponse, grpc: boolean, emitHeaders: boolean): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const headers: http2.OutgoingHttpHeaders = { ':status': grpc ? 200 : r.status, 'content-length': '0' };
  if (grpc) {
    headers['content-type'] = 'application/grpc';
    headers['grpc-status'] = String(r.grpcStatus);
  }
  if (emitHeaders) {
    const msg = headerText(r.message);
    if (grpc) headers['grpc-message'] = msg;
    headers['l5d-proxy-error'] = msg;
    if (r.closeConnection) headers['l5d-proxy-connection'] = 'close';
  }
  if (!grpc && r.location !== undefined) headers.location = r.location;
  try {
    stream.respond(headers, { endStream: true });
  } catch {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  if (r.closeConnection) {
    const session = stream.session;
    if (session !== undefined && !session.closed) session.close();
  }
}

/** Header values cannot carry control bytes or non-latin1 text; error messages might. */
export function headerText(v: string): string {
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/g, ' ').trim();
}
