// Keeps a forwarded TCP connection authorized: every policy change re-checks it, and a denied one is reset.
import type net from 'node:net';
import type { Logger } from '../../log/logger.js';
import { formatMeta, type ClientTls, type CompiledServerPolicy } from '../../policy/inbound/index.js';
import { abortSocket } from '../../transport/index.js';
import type { PortPolicy } from '../context.js';

export interface EnforcedTcpConnection {
  /** The raw TCP socket: resetting it also ends a TLS session running on it. */
  readonly socket: net.Socket;
  /** The peer IP authorization sees (normally `socket.remoteAddress`). */
  readonly clientIp: string;
  readonly tls: ClientTls;
}

export interface TcpReauthorizeHooks {
  /**
   * Called once, right after the connection was reset because `policy` (the new one) no longer
   * admits it: count `inbound_tcp_authz_terminate_total` here with `policy.policy.meta`.
   */
  onTerminate(policy: CompiledServerPolicy): void;
  /** Logs "Connection terminated due to policy change" (info) when given. */
  readonly log?: Logger;
}

/**
 * Subscribes to the port's policy for as long as the socket is open — which also holds the port's
 * watch — and re-runs TCP authorization on every change. Call it after the connection was
 * authorized against `policy.current()`. Returns a function that stops enforcement early
 * (idempotent; it also runs on the socket's `close`).
 */
export function enforceTcpAuthorization(conn: EnforcedTcpConnection, policy: PortPolicy, hooks: TcpReauthorizeHooks): () => void {
  const { socket } = conn;
  if (socket.destroyed) return noop;
  const client = { clientIp: conn.clientIp, tls: conn.tls };
  let stopped = false;
  let unsubscribe: () => void = noop;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    socket.removeListener('close', stop);
    unsubscribe();
  };
  unsubscribe = policy.subscribe((next) => {
    if (stopped || socket.destroyed || next.authorizeTcp(client).allowed) return;
    stop();
    abortSocket(socket);
    hooks.log?.info('Connection terminated due to policy change', { server: formatMeta(next.policy.meta), client: conn.clientIp });
    hooks.onTerminate(next);
  });
  // The subscription may have delivered (and denied) synchronously.
  if (stopped) unsubscribe();
  else socket.once('close', stop);
  return stop;
}

function noop(): void {}
