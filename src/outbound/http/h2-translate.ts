// HTTP/1 ⇄ HTTP/2 message translation for the l5d-orig-proto upgrade (spec §4.4): the HTTP/1
// request head as HTTP/2 headers, and the HTTP/2 response as an HTTP/1 head with explicit framing.
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { HttpVersion, RequestHead } from '../../http/h1/index.js';

export const L5D_ORIG_PROTO = 'l5d-orig-proto';

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2); hop-by-hop ones are already gone, this is the backstop. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

/** `HTTP/1.1`, `HTTP/1.0`, with `; absolute-form` when the request line carried an absolute URI. */
export function origProtoValue(head: RequestHead): string {
  const v = head.version === 10 ? 'HTTP/1.0' : 'HTTP/1.1';
  return head.targetForm === 'absolute' ? `${v}; absolute-form` : v;
}

/**
 * The HTTP/2 request for an HTTP/1 head. `authorityOverride` (multicluster gateways) wins;
 * then the absolute URI's authority, then Host, then `fallbackAuthority` (a request without
 * any). Host stays as an ordinary field, as hyper's HTTP/2 client sends it.
 */
export function h2RequestHeaders(head: RequestHead, authorityOverride: string | undefined, fallbackAuthority: string): OutgoingHttpHeaders {
  const target = head.target;
  let scheme = 'http';
  let path = target;
  let uriAuthority: string | undefined;
  if (head.targetForm === 'absolute') {
    const sep = target.indexOf('://');
    scheme = target.slice(0, sep).toLowerCase();
    let end = sep + 3;
    while (end < target.length && target[end] !== '/' && target[end] !== '?') end++;
    uriAuthority = target.slice(sep + 3, end);
    path = target.slice(end);
    if (path === '' || path[0] === '?') path = `/${path}`;
  }
  const out: OutgoingHttpHeaders = {
    ':method': head.method,
    ':scheme': scheme,
    ':authority': authorityOverride ?? uriAuthority ?? (head.hasHost ? head.host! : fallbackAuthority),
    ':path': path,
  };
  for (const [name, value] of head.headerEntries()) {
    if (CONNECTION_SPECIFIC.has(name) || name === L5D_ORIG_PROTO) continue;
    // TE may only say `trailers` in HTTP/2 (hyper strips any other value too).
    if (name === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  out[L5D_ORIG_PROTO] = origProtoValue(head);
  return out;
}

/** How the translated response body is delimited on the HTTP/1 side. */
export const F_NONE = 0;
export const F_LENGTH = 1;
export const F_CHUNKED = 2;
/** HTTP/1.0 without a length: the body ends when the connection does. */
export const F_EOF = 3;
export type Framing = typeof F_NONE | typeof F_LENGTH | typeof F_CHUNKED | typeof F_EOF;

export interface Http1Response {
  readonly head: Buffer;
  readonly framing: Framing;
}

/**
 * The HTTP/1 head for an HTTP/2 response. The version is what the peer's `l5d-orig-proto` says
 * (HTTP/1.1 or HTTP/1.0), else the request's; that header is dropped. A body without a length
 * is chunked for HTTP/1.1 and EOF-delimited for HTTP/1.0; a response that ended with its headers
 * gets `content-length: 0`, as hyper writes one.
 */
export function http1ResponseHead(status: number, raw: readonly string[], req: RequestHead, endStream: boolean): Http1Response {
  let version: HttpVersion = req.version;
  let hasLength = false;
  let fields = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) continue;
    if (name === L5D_ORIG_PROTO) {
      if (value === 'HTTP/1.1') version = 11;
      else if (value === 'HTTP/1.0') version = 10;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (name === 'content-length') hasLength = true;
    fields += `${name}: ${value}\r\n`;
  }
  let framing: Framing;
  if (status < 200 || status === 204 || status === 304 || req.isHead) framing = F_NONE;
  else if (hasLength) framing = F_LENGTH;
  else if (endStream) {
    framing = F_NONE;
    fields += 'content-length: 0\r\n';
  } else if (version === 11) {
    framing = F_CHUNKED;
    fields += 'transfer-encoding: chunked\r\n';
  } else framing = F_EOF;
  const line = `HTTP/1.${version === 10 ? 0 : 1} ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  return { head: Buffer.from(`${line}${fields}\r\n`, 'latin1'), framing };
}

/** An interim (1xx other than 101) response, relayed as its own HTTP/1.1 head. */
export function http1InterimHead(status: number, raw: readonly string[]): Buffer {
  let fields = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) !== 0x3a && !CONNECTION_SPECIFIC.has(name)) fields += `${name}: ${raw[i + 1]!}\r\n`;
  }
  return Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${fields}\r\n`, 'latin1');
}

/** RST_STREAM / GOAWAY codes as the Rust h2 crate displays them (`Reason`'s description). */
const REASONS: readonly string[] = [
  'not a result of an error',
  'unspecific protocol error detected',
  'unexpected internal error encountered',
  'flow-control protocol violated',
  'settings ACK not received in timely manner',
  'received frame when stream half-closed',
  'frame with invalid size',
  'refused stream before processing any application logic',
  'stream no longer needed',
  'unable to maintain the header compression context',
  'connection established in response to a CONNECT request was reset or abnormally closed',
  'detected excessive load generating behavior',
  'security properties do not meet minimum requirements',
  'endpoint requires HTTP/1.1',
];

export function h2ReasonText(code: number): string {
  return REASONS[code] ?? 'unknown reason';
}

/** The upgraded request's stream was reset: answered with a 502 (upstream `DowngradedH2Error`). */
export class DowngradedH2Error extends Error {
  constructor(readonly rstCode: number) {
    super(`upgraded connection failed with HTTP/2 reset: ${h2ReasonText(rstCode)}`);
    this.name = 'DowngradedH2Error';
  }
}
