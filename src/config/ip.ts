// IP literal parsing with one canonical text form (the one Node reports for socket addresses), and CIDR matching.
import { BlockList, SocketAddress, isIPv4, isIPv6 } from 'node:net';
import type { IpFamily, IpNetwork } from './types.js';

export interface ParsedIp {
  readonly addr: string;
  readonly family: IpFamily;
}

/**
 * Parses a bare IP literal (no brackets, no zone id, no CIDR) into canonical text: IPv4 dotted
 * quad; IPv6 lower-case, longest zero run compressed, IPv4-mapped tails dotted — the rendering
 * Node uses for `socket.remoteAddress`, so strings compare equal.
 */
export function parseIp(text: string): ParsedIp | undefined {
  if (isIPv4(text)) return { addr: text, family: 4 };
  if (!isIPv6(text) || text.includes('%')) return undefined;
  // SocketAddress renders through libuv's inet_ntop, exactly as socket addresses are reported.
  return { addr: new SocketAddress({ address: text, family: 'ipv6' }).address, family: 6 };
}

/** The canonical text of an IP literal, or undefined if `text` is not one. */
export function canonicalIp(text: string): string | undefined {
  return parseIp(text)?.addr;
}

/** 127.0.0.0/8 or ::1 (an IPv4-mapped 127.x address is not loopback, as in Rust). */
export function isLoopbackIp(text: string): boolean {
  const ip = parseIp(text);
  if (ip === undefined) return false;
  return ip.family === 4 ? ip.addr.startsWith('127.') : ip.addr === '::1';
}

/** Builds a matcher answering "is this IP inside any of these networks?" (built once, cheap per call). */
export function makeNetworkMatcher(networks: readonly IpNetwork[]): (ip: string) => boolean {
  if (networks.length === 0) return () => false;
  const list = new BlockList();
  for (const n of networks) list.addSubnet(n.addr, n.prefixLen, n.family === 4 ? 'ipv4' : 'ipv6');
  return (ip) => {
    if (isIPv4(ip)) return list.check(ip, 'ipv4');
    if (isIPv6(ip)) return list.check(ip, 'ipv6');
    return false;
  };
}

/** `10.0.0.0/8`, `fd00::/8`. */
export function formatNetwork(n: IpNetwork): string {
  return `${n.addr}/${n.prefixLen}`;
}
