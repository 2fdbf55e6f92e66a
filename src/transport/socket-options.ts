// The per-socket options the proxy sets on accepted and connected TCP sockets.
import type net from 'node:net';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import {
  IPPROTO_TCP,
  SOL_SOCKET,
  SO_KEEPALIVE,
  TCP_KEEPIDLE,
  TCP_USER_TIMEOUT,
  nativeSockoptAvailable,
  setsockoptInt,
  socketFd,
} from './native-sockopt.js';

export interface SocketOptions {
  /** TCP keepalive idle time (…_ACCEPT_KEEPALIVE / …_CONNECT_KEEPALIVE); unset ⇒ kernel default. */
  readonly keepaliveMs?: number;
  /** TCP_USER_TIMEOUT (…_USER_TIMEOUT); Linux only; unset ⇒ kernel default. */
  readonly userTimeoutMs?: number;
}

/**
 * Sets TCP_USER_TIMEOUT on a connected socket. Returns false where the option cannot be set
 * (not Linux, or koffi unavailable); throws SockoptError if the kernel rejects it.
 */
export function setUserTimeout(socket: net.Socket, ms: number): boolean {
  if (!nativeSockoptAvailable()) return false;
  setsockoptInt(socketFd(socket), IPPROTO_TCP, TCP_USER_TIMEOUT, Math.max(0, Math.round(ms)));
  return true;
}

/**
 * TCP_KEEPIDLE in whole seconds as the Rust proxy computes it (truncated), but at least one:
 * the kernel rejects 0.
 */
export function keepaliveIdleSeconds(ms: number): number {
  return Math.max(1, Math.floor(ms / 1000));
}

/**
 * Like the Rust proxy (socket2's set_tcp_keepalive), SO_KEEPALIVE is switched on for every
 * socket and only the idle time is configurable; probe interval and count stay at the kernel
 * defaults. Node's setKeepAlive(true, ms) would also force a 1s interval and 10 probes, so
 * it is only the fallback where raw socket options are unavailable.
 */
function setKeepalive(socket: net.Socket, keepaliveMs: number | undefined): void {
  if (!nativeSockoptAvailable()) {
    socket.setKeepAlive(true, keepaliveMs === undefined ? 0 : keepaliveIdleSeconds(keepaliveMs) * 1000);
    return;
  }
  const fd = socketFd(socket);
  setsockoptInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  if (keepaliveMs !== undefined) setsockoptInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, keepaliveIdleSeconds(keepaliveMs));
}

function apply(socket: net.Socket, opts: SocketOptions, log: Logger | undefined, side: string): void {
  socket.setNoDelay(true);
  try {
    setKeepalive(socket, opts.keepaliveMs);
  } catch (err) {
    // Like the Rust proxy: a socket option that cannot be set is worth a warning, not the connection.
    log?.warn('failed to set keepalive', { side, error: messageOf(err) });
  }
  if (opts.userTimeoutMs !== undefined) {
    try {
      if (!setUserTimeout(socket, opts.userTimeoutMs)) {
        log?.debug('TCP_USER_TIMEOUT is supported on Linux only; ignoring', { side });
      }
    } catch (err) {
      log?.warn('failed to set TCP_USER_TIMEOUT', { side, error: messageOf(err) });
    }
  }
}

/** Options for a socket the proxy accepted: NODELAY and keepalive always, idle time and user timeout if set. */
export function applyAcceptOptions(socket: net.Socket, opts: SocketOptions, log?: Logger): void {
  apply(socket, opts, log, 'accept');
}

/** Options for a socket the proxy connected (call once connected, so the fd exists). */
export function applyConnectOptions(socket: net.Socket, opts: SocketOptions, log?: Logger): void {
  apply(socket, opts, log, 'connect');
}
