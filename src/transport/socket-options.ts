// The per-socket options the proxy sets on accepted and connected TCP sockets.
import type net from 'node:net';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { IPPROTO_TCP, TCP_USER_TIMEOUT, nativeSockoptAvailable, setsockoptInt, socketFd } from './native-sockopt.js';

export interface SocketOptions {
  /** TCP keepalive idle time (…_ACCEPT_KEEPALIVE / …_CONNECT_KEEPALIVE); unset ⇒ off. */
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
 * Keepalive idle time as Node applies it: whole seconds, at least one (the kernel rejects 0),
 * so sub-second settings round up rather than silently disabling the probe delay.
 */
export function keepaliveDelayMs(ms: number): number {
  return Math.max(1000, Math.ceil(ms / 1000) * 1000);
}

function apply(socket: net.Socket, opts: SocketOptions, log: Logger | undefined, side: string): void {
  socket.setNoDelay(true);
  if (opts.keepaliveMs !== undefined) socket.setKeepAlive(true, keepaliveDelayMs(opts.keepaliveMs));
  if (opts.userTimeoutMs !== undefined) {
    try {
      if (!setUserTimeout(socket, opts.userTimeoutMs)) {
        log?.debug('TCP_USER_TIMEOUT is not supported here; ignoring', { side });
      }
    } catch (err) {
      // Like the Rust proxy: a socket option that cannot be set is worth a warning, not the connection.
      log?.warn('failed to set TCP_USER_TIMEOUT', { side, error: messageOf(err) });
    }
  }
}

/** Options for a socket the proxy accepted: NODELAY always, keepalive and user timeout if set. */
export function applyAcceptOptions(socket: net.Socket, opts: SocketOptions, log?: Logger): void {
  apply(socket, opts, log, 'accept');
}

/** Options for a socket the proxy connected (call once connected, so the fd exists). */
export function applyConnectOptions(socket: net.Socket, opts: SocketOptions, log?: Logger): void {
  apply(socket, opts, log, 'connect');
}
