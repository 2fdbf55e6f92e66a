// The app's HTTP/1 response as the HTTP/2 client gets it: body framing (RFC 9112 §6.3), headers
// without connection-level fields and marked with `l5d-orig-proto`, and reset reason names.
import type http2 from 'node:http2';
import type { ResponseHead } from '../../http/h1/index.js';
import { ORIG_PROTO_HEADER, origProtoValue } from './orig-proto.js';

export const NO_BODY = 0;
export const LENGTH = 1;
export const CHUNKED = 2;
/** Delimited by the app closing the connection. */
export const EOF = 3;

/** Headers a response must lose on its way to HTTP/2 (RFC 9113 §8.2.2), plus the marker we set. */
const SKIP_TO_H2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', ORIG_PROTO_HEADER]);

/** How the response body is delimited (RFC 9112 §6.3), or why the response is unusable. */
export function bodyKindOf(res: ResponseHead, isHead: boolean): number | string {
  const status = res.status;
  if (isHead || status === 204 || status === 304) return NO_BODY;
  if (res.hasTransferEncoding) {
    if (res.version === 10) return 'transfer-encoding in an HTTP/1.0 response';
    return res.chunked ? CHUNKED : EOF;
  }
  if (res.hasContentLength) return res.contentLength > 0 ? LENGTH : NO_BODY;
  return EOF;
}

/** The app's response head as HTTP/2 headers, marked with the HTTP/1 version it came in. */
export function toH2Headers(res: ResponseHead): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ':status': res.status };
  const named = res.connectionNames;
  for (const [name, value] of res.headerEntries()) {
    if (SKIP_TO_H2.has(name) || (named !== undefined && named.includes(name))) continue;
    const cur = out[name];
    if (cur === undefined) out[name] = value;
    else if (Array.isArray(cur)) cur.push(value);
    else out[name] = [String(cur), value];
  }
  out[ORIG_PROTO_HEADER] = origProtoValue(res.version);
  return out;
}

const H2_REASONS: Record<number, string> = {
  0: 'NO_ERROR',
  1: 'PROTOCOL_ERROR',
  2: 'INTERNAL_ERROR',
  3: 'FLOW_CONTROL_ERROR',
  4: 'SETTINGS_TIMEOUT',
  5: 'STREAM_CLOSED',
  6: 'FRAME_SIZE_ERROR',
  7: 'REFUSED_STREAM',
  8: 'CANCEL',
  9: 'COMPRESSION_ERROR',
  10: 'CONNECT_ERROR',
  11: 'ENHANCE_YOUR_CALM',
  12: 'INADEQUATE_SECURITY',
  13: 'HTTP_1_1_REQUIRED',
};

/** h2's Debug name of a reset reason, as the `error` label shows it (`h2(CANCEL)`). */
export function h2ReasonName(code: number): string {
  return H2_REASONS[code] ?? `Reason(${code})`;
}
