// io.linkerd.proxy.net addresses to and from socket addresses (IPv4 as a big-endian uint32, IPv6 as two big-endian halves).
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIp } from '../config/index.js';
import type { SocketAddr } from '../transport/addr.js';
import { child, fail, int64, msg, oneofArm, reqMsg, u32, type Obj } from './wire.js';

const U64 = 0xffff_ffff_ffff_ffffn;

/** The canonical text of an `IPAddress`. */
export function decodeIpAddress(v: unknown, path: string): { host: string; family: 4 | 6 } {
  const ip = msg(v, path);
  const arm = oneofArm(ip, 'ip', ['ipv4', 'ipv6'], path) ?? fail(path, 'no address family set');
  if (arm.name === 'ipv4') {
    // fixed32 arrives as the number itself: 10.1.2.3 is 0x0A010203, the first octet in the top byte.
    const n = int64(arm.value, arm.path);
    if (n < 0n || n > 0xffff_ffffn) fail(arm.path, 'IPv4 address does not fit in 32 bits');
    const v4 = Number(n);
    return { host: `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`, family: 4 };
  }
  const halves = msg(arm.value, arm.path);
  const first = BigInt.asUintN(64, int64(halves.first, child(arm.path, 'first')));
  const last = BigInt.asUintN(64, int64(halves.last, child(arm.path, 'last')));
  const value = (first << 64n) | last;
  const hextets: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) hextets.push(((value >> shift) & 0xffffn).toString(16));
  const host = canonicalIp(hextets.join(':')) ?? fail(arm.path, 'not an IPv6 address');
  return { host, family: 6 };
}

/** A `TcpAddress` as a socket address; ports above 65535 are invalid. */
export function decodeTcpAddress(v: unknown, path: string): SocketAddr {
  const a = msg(v, path);
  const ip = decodeIpAddress(reqMsg(a, 'ip', path), child(path, 'ip'));
  const port = u32(a, 'port', path);
  if (port > 65535) fail(child(path, 'port'), `port ${port} is out of range`);
  return { host: ip.host, port, family: ip.family };
}

/** The `IPAddress` message (toObject/fromObject form) for an IP literal. */
export function encodeIpAddress(host: string): Obj {
  if (isIPv4(host)) {
    const v4 = host.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    return { ipv4: v4 };
  }
  if (!isIPv6(host)) throw new TypeError(`not an IP literal: ${host}`);
  const value = ipv6Value(host);
  return { ipv6: { first: ((value >> 64n) & U64).toString(), last: (value & U64).toString() } };
}

export function encodeTcpAddress(addr: { readonly host: string; readonly port: number }): Obj {
  return { ip: encodeIpAddress(addr.host), port: addr.port };
}

/** The 128-bit value of an IPv6 address in text form (`::` and embedded IPv4 allowed). */
export function ipv6Value(text: string): bigint {
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((h) => {
          if (!h.includes('.')) return [parseInt(h, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = h.split('.').map(Number);
          return [a * 256 + b, c * 256 + d];
        });
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const hextets = [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
  return hextets.reduce((acc, h) => (acc << 16n) | BigInt(h), 0n);
}
