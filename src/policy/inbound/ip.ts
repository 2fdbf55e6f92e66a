// Numeric IP addresses and CIDR containment for authorization networks (IPv4-mapped IPv6 clients count as IPv4).
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIp } from '../../config/index.js';
import type { AuthzNetwork, IpNetwork } from './types.js';

/** An address as 32-bit words: one for IPv4, four (most significant first) for IPv6. */
export type IpAddr =
  | { readonly family: 4; readonly v4: number }
  | { readonly family: 6; readonly w: readonly [number, number, number, number] };

function parseV4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

/** The 8 hextets of a valid IPv6 literal (no zone). */
function parseV6Hextets(text: string): number[] | undefined {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const hex = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const h of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) return undefined;
      out.push(parseInt(h, 16));
    }
    return out;
  };
  const head = hex(halves[0] ?? '');
  if (head === undefined) return undefined;
  if (halves.length === 1) {
    const all = [...head, ...tail];
    return all.length === 8 ? all : undefined;
  }
  const rest = hex(halves[1] ?? '');
  if (rest === undefined) return undefined;
  const missing = 8 - head.length - rest.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
}

function wordsOf(h: readonly number[]): [number, number, number, number] {
  const w = (i: number): number => ((h[2 * i] ?? 0) * 65536 + (h[2 * i + 1] ?? 0)) >>> 0;
  return [w(0), w(1), w(2), w(3)];
}

/**
 * Parses a client address as Node reports it (a zone id such as `%eth0` is ignored). An
 * IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) becomes that IPv4 address, so dual-stack sockets
 * are matched against IPv4 networks.
 */
export function parseIpAddr(text: string): IpAddr | undefined {
  if (isIPv4(text)) {
    const v4 = parseV4(text);
    return v4 === undefined ? undefined : { family: 4, v4 };
  }
  const pct = text.indexOf('%');
  const bare = pct === -1 ? text : text.slice(0, pct);
  if (!isIPv6(bare)) return undefined;
  const h = parseV6Hextets(bare);
  if (h === undefined) return undefined;
  const w = wordsOf(h);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return { family: 4, v4: w[3] };
  return { family: 6, w };
}

function maskWord(prefixLen: number, word: number): number {
  const bits = Math.max(0, Math.min(32, prefixLen - 32 * word));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

export type AddrPredicate = (addr: IpAddr) => boolean;

/**
 * A containment test for one CIDR network. Host bits in `net.addr` are ignored (as ipnet does).
 * An IPv4-mapped IPv6 network of prefix ≥ 96 is treated as the IPv4 network it maps.
 */
export function networkContains(net: IpNetwork): AddrPredicate {
  let addr = parseIpAddrRaw(net.addr);
  if (addr === undefined) throw new Error(`invalid network address ${net.addr}`);
  let prefixLen = net.prefixLen;
  if (addr.family === 6) {
    const [a, b, c, d] = addr.w;
    if (a === 0 && b === 0 && c === 0xffff && prefixLen >= 96) {
      addr = { family: 4, v4: d };
      prefixLen -= 96;
    }
  }
  if (addr.family === 4) {
    const mask = maskWord(prefixLen, 0);
    const want = (addr.v4 & mask) >>> 0;
    return (ip) => ip.family === 4 && (ip.v4 & mask) >>> 0 === want;
  }
  const m = [0, 1, 2, 3].map((i) => maskWord(prefixLen, i));
  const [m0 = 0, m1 = 0, m2 = 0, m3 = 0] = m;
  const [w0, w1, w2, w3] = addr.w;
  const n0 = (w0 & m0) >>> 0;
  const n1 = (w1 & m1) >>> 0;
  const n2 = (w2 & m2) >>> 0;
  const n3 = (w3 & m3) >>> 0;
  return (ip) =>
    ip.family === 6 &&
    (ip.w[0] & m0) >>> 0 === n0 &&
    (ip.w[1] & m1) >>> 0 === n1 &&
    (ip.w[2] & m2) >>> 0 === n2 &&
    (ip.w[3] & m3) >>> 0 === n3;
}

/** Like parseIpAddr but keeps IPv4-mapped addresses as IPv6 (network literals are taken as written). */
function parseIpAddrRaw(text: string): IpAddr | undefined {
  if (isIPv4(text)) {
    const v4 = parseV4(text);
    return v4 === undefined ? undefined : { family: 4, v4 };
  }
  if (!isIPv6(text)) return undefined;
  const h = parseV6Hextets(text);
  return h === undefined ? undefined : { family: 6, w: wordsOf(h) };
}

/** True when the address is in some `net` and in none of that entry's `except` networks. */
export function authzNetworksContain(networks: readonly AuthzNetwork[]): AddrPredicate {
  const compiled = networks.map((n) => {
    const inNet = networkContains(n.net);
    const excepts = n.except.map(networkContains);
    if (excepts.length === 0) return inNet;
    return (ip: IpAddr) => inNet(ip) && !excepts.some((e) => e(ip));
  });
  if (compiled.length === 1) return compiled[0] ?? (() => false);
  return (ip) => compiled.some((c) => c(ip));
}

/** Dotted-quad text of a 32-bit value (the wire's fixed32 IPv4, most significant octet first). */
export function ipv4FromUint32(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** Canonical IPv6 text of the wire's two 64-bit halves (hextets 1–4 and 5–8). */
export function ipv6FromHalves(first: bigint, last: bigint): string {
  const hextets: string[] = [];
  for (const half of [first, last]) {
    for (let shift = 48n; shift >= 0n; shift -= 16n) hextets.push(((half >> shift) & 0xffffn).toString(16));
  }
  const text = hextets.join(':');
  return canonicalIp(text) ?? text;
}

let lastText: string | undefined;
let lastAddr: IpAddr | undefined;

/**
 * parseIpAddr for the per-request path: the requests of a connection (and the connections of
 * one client) share their address, so the last one parsed is kept.
 */
export function clientIpAddr(text: string): IpAddr | undefined {
  if (text !== lastText) {
    lastAddr = parseIpAddr(text);
    lastText = text;
  }
  return lastAddr;
}
