// Helpers for configured addresses: loopback test and `host:port` rendering with IPv6 brackets.
import { isLoopbackIp } from './ip.js';

/**
 * True for a loopback IP (127.0.0.0/8, ::1, brackets allowed) or the name `localhost`, with or
 * without a trailing dot, in any case. (The Rust proxy only treats the absolute `localhost.` as
 * loopback; we also accept the relative form because that is what people write.)
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = h.toLowerCase();
  return lower === 'localhost' || lower === 'localhost.' || isLoopbackIp(h);
}

/** `10.0.0.1:4143`, `[::]:4143`, `linkerd-dst.linkerd.svc.cluster.local.:8086`. */
export function formatSocketAddr(addr: { readonly host: string; readonly port: number }): string {
  return addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}
