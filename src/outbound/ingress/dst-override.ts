// Ingress mode's `l5d-dst-override: host[:port]` header: which named target a request is for.
import { isValidDnsName } from '../../config/dns-name.js';

export const DST_OVERRIDE_HEADER = 'l5d-dst-override';

/** The port of an override that names none (upstream's default for the header). */
export const DEFAULT_OVERRIDE_PORT = 80;

export type DstOverride =
  /** No usable header: the request goes to the connection's original destination. */
  | { readonly kind: 'absent' }
  /** A DNS name (lower-case, no trailing dot) and port; `authority` is `name:port`. */
  | { readonly kind: 'named'; readonly name: string; readonly port: number; readonly authority: string }
  /** An authority whose host is not a DNS name (an IP literal, say): the request fails. */
  | { readonly kind: 'invalid' };

const ABSENT: DstOverride = Object.freeze({ kind: 'absent' });
const INVALID: DstOverride = Object.freeze({ kind: 'invalid' });

/** Bytes an authority may hold (RFC 3986 unreserved, sub-delims, `:@[]` and `%`). */
const AUTHORITY_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]+$/;
const PORT = /^\+?[0-9]+$/;

/**
 * As upstream reads the header: a value that is not an authority at all counts as no header
 * (the request keeps its original destination); an authority whose host is not a valid DNS
 * name is invalid. A port that is missing or not a 16-bit number means port 80 (the http
 * crate's `Authority::port` ignores one it cannot parse).
 */
export function parseDstOverride(value: string | undefined): DstOverride {
  if (value === undefined || value.length === 0 || !AUTHORITY_CHAR.test(value)) return ABSENT;
  if (value.includes('[') !== value.includes(']')) return ABSENT;
  if (value.endsWith('@')) return ABSENT;
  // Colons of userinfo (before `@`) and of an IPv6 literal are not port separators.
  let colons = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x3a) colons++;
    else if (c === 0x5d || c === 0x40) colons = 0;
  }
  if (colons > 1) return ABSENT;
  const at = value.lastIndexOf('@');
  const hostPort = at === -1 ? value : value.slice(at + 1);

  let host: string;
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    host = end === -1 ? hostPort : hostPort.slice(1, end);
  } else {
    host = hostPort.split(':', 1)[0] ?? '';
  }
  const lastColon = value.lastIndexOf(':');
  const portText = lastColon === -1 ? undefined : value.slice(lastColon + 1);
  let port = DEFAULT_OVERRIDE_PORT;
  if (portText !== undefined && PORT.test(portText)) {
    const n = Number(portText);
    if (n <= 0xffff) port = n;
  }
  if (!isValidDnsName(host)) return INVALID;
  const name = host.toLowerCase().replace(/\.$/, '');
  return Object.freeze({ kind: 'named', name, port, authority: `${name}:${port}` });
}

/** The request authority to assume for a named target: `name` on port 80, else `name:port` (upstream's as_http_authority). */
export function defaultAuthority(name: string, port: number): string {
  return port === 80 ? name : `${name}:${port}`;
}
