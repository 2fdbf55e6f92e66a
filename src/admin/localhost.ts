// Whether an admin client address is loopback (127.0.0.0/8, ::1, or IPv4-mapped 127.x).

import { isIPv4, isIPv6 } from 'node:net';

/** `ip` as Node reports it in socket.remoteAddress (IPv6 possibly with a `%zone`). */
export function isLoopbackAddress(ip: string | undefined): boolean {
  if (ip === undefined) return false;
  if (isIPv4(ip)) return ip.startsWith('127.');
  const bare = (ip.split('%', 1)[0] ?? '').toLowerCase();
  if (!isIPv6(bare)) return false;
  const g = ipv6Groups(bare);
  if (g === undefined || !g.slice(0, 5).every((x) => x === 0)) return false;
  if (g[5] === 0 && g[6] === 0 && g[7] === 1) return true; // ::1
  return g[5] === 0xffff && (g[6] ?? 0) >> 8 === 127; // ::ffff:127.a.b.c
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and a dotted-quad tail expanded). */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad !== null) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  const parse = (s: string | undefined): number[] =>
    s === undefined || s === '' ? [] : s.split(':').map((x) => parseInt(x, 16));
  const left = parse(halves[0]);
  if (halves.length === 1) return left.length === 8 ? left : undefined;
  const right = parse(halves[1]);
  const fill = 8 - left.length - right.length;
  return fill < 0 ? undefined : [...left, ...new Array<number>(fill).fill(0), ...right];
}
