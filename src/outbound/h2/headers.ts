// Header sets of the outbound HTTP/2 server: the request's regular headers as sent upstream (hop-by-hop,
// l5d-require-id and consumed l5d overrides dropped), the pseudo-headers per endpoint (authority
// overrides of gateways), and the response's headers as relayed to the app.
import type http2 from 'node:http2';
import type { OutgoingHeaders } from '../../inbound/http/header-edits.js';

export type { OutgoingHeaders };

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2); node's server refuses most of them already. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

/** Informational headers of a meshed peer's proxy never reach the app (spec §4.7). */
const RESPONSE_SKIP: ReadonlySet<string> = new Set([...CONNECTION_SPECIFIC, 'l5d-proxy-error', 'l5d-proxy-connection']);

/**
 * The request's regular headers in arrival order, minus `skip` (lower-case names): connection
 * headers, `l5d-require-id` (never sent upstream, spec §4.9), and the l5d overrides a route consumed.
 */
export function requestHeaders(raw: readonly string[], consumed: readonly string[] | undefined): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.charCodeAt(0) === 0x3a || CONNECTION_SPECIFIC.has(name) || name === 'l5d-require-id') continue;
    if (consumed !== undefined && consumed.includes(name)) continue;
    const value = raw[i + 1]!;
    // TE may only say `trailers` in HTTP/2.
    if (name === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
    const cur = out[name];
    if (cur === undefined) out[name] = value;
    else if (Array.isArray(cur)) cur.push(value);
    else out[name] = [cur, value];
  }
  return out;
}

/** A shallow copy an attempt's filters may change (array values are copied on write by H2HeaderEdits). */
export function copyHeaders(h: OutgoingHeaders): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (const name in h) {
    const v = h[name]!;
    out[name] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

export interface RequestLine {
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
}

/**
 * The full upstream header block: pseudo-headers first. A gateway endpoint's authority override
 * replaces `:authority`, and Host and `l5d-dst-canonical` are dropped (they name the logical service).
 */
export function upstreamHeaders(line: RequestLine, regular: OutgoingHeaders, authorityOverride: string | undefined): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders =
    line.method === 'CONNECT'
      ? { ':method': line.method, ':authority': authorityOverride ?? line.authority }
      : { ':method': line.method, ':scheme': line.scheme, ':authority': authorityOverride ?? line.authority, ':path': line.path };
  for (const name in regular) {
    if (authorityOverride !== undefined && (name === 'host' || name === 'l5d-dst-canonical')) continue;
    out[name] = regular[name];
  }
  return out;
}

/** The response's regular fields to relay, minus connection and informational ones. */
export function responseHeaders(h: http2.IncomingHttpHeaders): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (const name in h) {
    if (name.charCodeAt(0) === 0x3a || RESPONSE_SKIP.has(name)) continue;
    const v = h[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Received trailers minus pseudo-headers, ready to send on. */
export function trailersOf(t: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const name in t) if (name.charCodeAt(0) !== 0x3a) out[name] = t[name];
  return out;
}
