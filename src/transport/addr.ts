// Socket addresses as plain values: construction, formatting and IP classification.
import net from 'node:net';

export interface SocketAddr {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

const MAPPED_PREFIX = '::ffff:';
const IPV6_LOOPBACK = new net.BlockList();
IPV6_LOOPBACK.addAddress('::1', 'ipv6');

/** `1.2.3.4:80` or `[::1]:80`, the form the Rust proxy logs and the env vars use. */
export function formatAddr(a: SocketAddr): string {
  return a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** `::ffff:1.2.3.4` ⇒ `1.2.3.4`; anything else is returned unchanged. */
export function normalizeMappedIPv4(ip: string): string {
  if (ip.length > MAPPED_PREFIX.length && ip.slice(0, MAPPED_PREFIX.length).toLowerCase() === MAPPED_PREFIX) {
    const rest = ip.slice(MAPPED_PREFIX.length);
    if (net.isIPv4(rest)) return rest;
  }
  return ip;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackIp(ip: string): boolean {
  const v = normalizeMappedIPv4(ip);
  if (net.isIPv4(v)) return v.startsWith('127.');
  if (!net.isIPv6(v)) return false;
  return IPV6_LOOPBACK.check(v, 'ipv6');
}

/**
 * Builds a SocketAddr from an IP literal (mapped IPv4 is normalised to IPv4). Throws on a
 * non-IP host or an out-of-range port: socket addresses here are always resolved.
 */
export function socketAddr(host: string, port: number): SocketAddr {
  const ip = normalizeMappedIPv4(host);
  const kind = net.isIP(ip);
  if (kind === 0) throw new TypeError(`not an IP address: ${JSON.stringify(host)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`not a TCP port: ${String(port)}`);
  }
  return { host: ip, port, family: kind === 6 ? 6 : 4 };
}

/** The peer of a socket, or undefined if it never connected (Node caches it once read). */
export function remoteAddrOf(socket: net.Socket): SocketAddr | undefined {
  const { remoteAddress, remotePort } = socket;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  return socketAddr(remoteAddress, remotePort);
}

/** The local end of a socket, or undefined if it never connected. */
export function localAddrOf(socket: net.Socket): SocketAddr | undefined {
  const { localAddress, localPort } = socket;
  if (localAddress === undefined || localPort === undefined) return undefined;
  return socketAddr(localAddress, localPort);
}
