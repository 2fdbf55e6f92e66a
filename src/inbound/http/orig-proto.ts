// `l5d-orig-proto` downgrade (spec §4.4, inbound side): which HTTP/1 version an upgraded HTTP/2
// request had, and the HTTP/1 request head rebuilt from its HTTP/2 headers.
import type { OutgoingHeaders } from './header-edits.js';

export const ORIG_PROTO_HEADER = 'l5d-orig-proto';

export interface OrigProto {
  readonly version: 10 | 11;
  /** The original request line used an absolute URI. */
  readonly absoluteForm: boolean;
}

const HTTP11: OrigProto = Object.freeze({ version: 11, absoluteForm: false });
const HTTP11_ABS: OrigProto = Object.freeze({ version: 11, absoluteForm: true });
const HTTP10: OrigProto = Object.freeze({ version: 10, absoluteForm: false });
const HTTP10_ABS: OrigProto = Object.freeze({ version: 10, absoluteForm: true });

/**
 * The header's meaning, byte for byte as the Rust proxy reads it: a value starting `HTTP/1.1` or
 * `HTTP/1.0` selects the version, and bytes 10..23 equal to `absolute-form` (as in
 * `HTTP/1.1; absolute-form`) select absolute form. Anything else is undefined: the request stays
 * HTTP/2 (the caller warns).
 */
export function parseOrigProto(value: string): OrigProto | undefined {
  let version: 10 | 11;
  if (value.startsWith('HTTP/1.1')) version = 11;
  else if (value.startsWith('HTTP/1.0')) version = 10;
  else return undefined;
  const absolute = value.length >= 23 && value.slice(10, 23) === 'absolute-form';
  if (version === 11) return absolute ? HTTP11_ABS : HTTP11;
  return absolute ? HTTP10_ABS : HTTP10;
}

/** The response marker the outbound proxy turns back into the response's HTTP/1 version. */
export function origProtoValue(version: 10 | 11): string {
  return version === 10 ? 'HTTP/1.0' : 'HTTP/1.1';
}

/** Request headers that HTTP/1 must not receive from an HTTP/2 message, or that we own. */
export const SKIP_TO_H1: ReadonlySet<string> = new Set([
  ORIG_PROTO_HEADER,
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Collects a request's regular headers (pseudo-headers and connection headers dropped) in order. */
export function headersFromRaw(raw: readonly string[], skip: ReadonlySet<string> = SKIP_TO_H1): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.startsWith(':') || skip.has(name)) continue;
    const value = raw[i + 1]!;
    const cur = out[name];
    if (cur === undefined) out[name] = value;
    else if (Array.isArray(cur)) cur.push(value);
    else out[name] = [cur, value];
  }
  return out;
}

/** How the downgraded request body is framed on the HTTP/1 connection. */
export type H1BodyMode =
  /** The HTTP/2 request ended with its headers. */
  | 'none'
  | 'length'
  | 'chunked'
  /** HTTP/1.0 without Content-Length: like hyper, no body is sent (and the stream's data is dropped). */
  | 'drop';

export interface H1RequestLine {
  readonly method: string;
  /** `:path`, or the absolute URI for absolute form. */
  readonly target: string;
  readonly version: 10 | 11;
}

/** Chooses the body framing and adjusts the headers for it. */
export function h1BodyMode(headers: OutgoingHeaders, version: 10 | 11, endStream: boolean): H1BodyMode {
  if (endStream) return 'none';
  if (headers['content-length'] !== undefined) return 'length';
  if (version === 10) return 'drop';
  headers['transfer-encoding'] = 'chunked';
  return 'chunked';
}

/**
 * The request head bytes: `METHOD target HTTP/1.x`, then the headers as they are (lower-case
 * names, hyper's wire style). No Host is added when the HTTP/2 request had none (§4.2).
 * Throws TypeError for a value that cannot be written on an HTTP/1 line.
 */
export function renderH1RequestHead(line: H1RequestLine, headers: OutgoingHeaders): Buffer {
  let s = `${line.method} ${line.target} HTTP/1.${line.version === 10 ? 0 : 1}\r\n`;
  for (const name in headers) {
    const v = headers[name]!;
    if (Array.isArray(v)) for (const one of v) s += `${name}: ${checkValue(one)}\r\n`;
    else s += `${name}: ${checkValue(v)}\r\n`;
  }
  return Buffer.from(`${s}\r\n`, 'latin1');
}

function checkValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000\r\n]|[^\u0000-\u00ff]/.test(v)) throw new TypeError(`invalid header value ${JSON.stringify(v)}`);
  return v;
}
