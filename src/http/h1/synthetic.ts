// Responses the proxy writes itself (spec §4.7): status line in the request's version,
// `content-length: 0`, informational l5d-* headers, `connection: close` when closing.
import { STATUS_CODES } from 'node:http';
import type { HttpVersion } from './head.js';

export interface SyntheticResponse {
  readonly status: number;
  /** The error text for `l5d-proxy-error`; sent only when headers are emitted. */
  readonly message?: string;
  /** The client connection is closed after this response (spec §4.7 table). */
  readonly close: boolean;
  /** Extra headers, e.g. `location` for a redirect filter. Lower-case names. */
  readonly headers?: readonly (readonly [name: string, value: string])[];
}

export interface RenderOptions {
  readonly httpVersion: HttpVersion;
  /** Add l5d-proxy-error / l5d-proxy-connection (to meshed peers, or outbound unless disabled). */
  readonly emitHeaders: boolean;
  /** The connection is closed after the response (whatever the reason). */
  readonly closing: boolean;
  /** Wall-clock ms for the `date` header hyper adds; omitted when undefined. */
  readonly nowMs?: number;
}

export function renderSyntheticResponse(resp: SyntheticResponse, opts: RenderOptions): Buffer {
  const reason = STATUS_CODES[resp.status] ?? 'Unknown';
  let s = `HTTP/1.${opts.httpVersion === 10 ? 0 : 1} ${resp.status} ${reason}\r\ncontent-length: 0\r\n`;
  if (resp.headers !== undefined) {
    for (const [name, value] of resp.headers) s += `${name}: ${sanitize(value)}\r\n`;
  }
  if (opts.emitHeaders && resp.message !== undefined) s += `l5d-proxy-error: ${sanitize(resp.message)}\r\n`;
  if (opts.closing) {
    if (opts.httpVersion === 11) s += 'connection: close\r\n';
    if (opts.emitHeaders) s += 'l5d-proxy-connection: close\r\n';
  }
  if (opts.nowMs !== undefined) s += `date: ${httpDate(opts.nowMs)}\r\n`;
  return Buffer.from(`${s}\r\n`, 'latin1');
}

/** Header values cannot carry controls or non-latin1 text; error messages might. */
function sanitize(v: string): string {
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/g, ' ').trim();
}

let dateSecond = -1;
let dateText = '';

/** IMF-fixdate (RFC 9110 §5.6.7), computed at most once a second. */
export function httpDate(nowMs: number): string {
  const sec = Math.floor(nowMs / 1000);
  if (sec !== dateSecond) {
    dateSecond = sec;
    dateText = new Date(sec * 1000).toUTCString();
  }
  return dateText;
}
