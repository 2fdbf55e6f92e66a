// Binding the proxy's TCP listeners, with errors that name the address.
import net from 'node:net';
import { ProxyError, errnoOf, messageOf } from '../core/errors.js';
import { formatAddr, socketAddr, type SocketAddr } from './addr.js';

export interface ListenOptions {
  /** Listen backlog (…_TCP_LISTEN_BACKLOG); unset ⇒ Node's default (511, capped by somaxconn). */
  readonly backlog?: number;
}

/** A listener could not be bound; `code` is the errno (EADDRINUSE, EACCES, EADDRNOTAVAIL…). */
export class ListenError extends ProxyError {
  constructor(
    readonly addr: SocketAddr,
    code: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot listen on ${formatAddr(addr)}: ${reason}`, code, 'internal', options);
  }
}

function reasonFor(code: string, err: unknown): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EADDRNOTAVAIL':
      return 'address not available on this host';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    default:
      return messageOf(err);
  }
}

/**
 * Binds a TCP server and resolves once it is listening.
 *
 * Accepted sockets arrive paused (`pauseOnConnect`): nothing is read until the caller resumes
 * them, which is how listeners "accept nothing until identity" — the app holds connections
 * until the first certificate exists. `allowHalfOpen` keeps a socket writable after the peer
 * shuts its write side, so half-closes can be forwarded. Node (libuv) always sets SO_REUSEADDR
 * on listening TCP sockets, matching the Rust proxy's behaviour when a backlog is configured.
 */
export function listenTcp(addr: SocketAddr, opts: ListenOptions = {}): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      const code = errnoOf(err) ?? 'listen-failed';
      reject(new ListenError(addr, code, reasonFor(code, err), { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    const listenOpts: net.ListenOptions = { host: addr.host, port: addr.port };
    if (opts.backlog !== undefined) listenOpts.backlog = opts.backlog;
    server.listen(listenOpts);
  });
}

/** The address a listening server is bound to (useful after binding port 0). */
export function boundAddr(server: net.Server): SocketAddr {
  const a = server.address();
  if (a === null || typeof a === 'string') {
    throw new ProxyError('server is not listening on a TCP address', 'not-listening');
  }
  return socketAddr(a.address, a.port);
}
