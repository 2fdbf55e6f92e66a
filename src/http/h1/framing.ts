// How long a message body is (RFC 9112 §6.3), decided from a parsed head.
import type { RequestHead, ResponseHead } from './head.js';

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
/** Delimited by the sender closing the connection (responses only). */
export const BODY_EOF = 3;
/** The connection becomes a raw tunnel (101, or 2xx to CONNECT). */
export const BODY_TUNNEL = 4;

export type BodyKind = typeof BODY_NONE | typeof BODY_LENGTH | typeof BODY_CHUNKED | typeof BODY_EOF | typeof BODY_TUNNEL;

/** A request's body framing; the parser has already rejected every ambiguous combination. */
export function requestBodyKind(req: RequestHead): BodyKind {
  // Bytes after a CONNECT head belong to the tunnel, whatever its headers claim.
  if (req.isConnect) return BODY_NONE;
  if (req.chunked) return BODY_CHUNKED;
  return req.contentLength > 0 ? BODY_LENGTH : BODY_NONE;
}

/**
 * A final response's body framing, or a string saying why the response is unusable. Mirrors
 * hyper's client decoder: 1xx/204/304 and HEAD have no body; Transfer-Encoding wins over
 * Content-Length (the forwarder then drops Content-Length); Transfer-Encoding not ending in
 * chunked reads to EOF; Transfer-Encoding in HTTP/1.0 is an error. Stricter than hyper:
 * `chunked` applied twice (or not last but present) is refused rather than decoded once.
 */
export function responseBodyKind(res: ResponseHead, req: RequestHead): BodyKind | string {
  const status = res.status;
  if (status === 101) return req.wantsUpgrade && !req.isConnect ? BODY_TUNNEL : 'unexpected 101 Switching Protocols';
  if (status < 200) return BODY_NONE;
  if (req.isConnect && status < 300) return BODY_TUNNEL;
  if (req.isHead || status === 204 || status === 304) return BODY_NONE;
  if (res.hasTransferEncoding) {
    if (res.version === 10) return 'transfer-encoding in an HTTP/1.0 response';
    if (res.chunked) return BODY_CHUNKED;
    return hasMisplacedChunked(res) ? 'transfer-encoding applies chunked other than once, last' : BODY_EOF;
  }
  if (res.hasContentLength) return res.contentLength > 0 ? BODY_LENGTH : BODY_NONE;
  return BODY_EOF;
}

function hasMisplacedChunked(res: ResponseHead): boolean {
  const te = res.header('transfer-encoding');
  return te !== undefined && /(^|,)\s*chunked\s*(,|$)/i.test(te);
}
