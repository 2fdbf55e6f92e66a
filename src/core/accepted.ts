// The first steps every proxied listener takes with an accepted socket, shared by inbound and outbound.
import type net from 'node:net';
import { messageOf } from './errors.js';
import type { ConnectionTracker } from './connection-tracker.js';
import type { Logger } from '../log/logger.js';
import { applyAcceptOptions, type OrigDstSource, type SocketAddr, type SocketOptions } from '../transport/index.js';

/**
 * Tracks the socket for shutdown, sets its options and reads its original destination.
 * Returns undefined (the socket already dropped, and logged as upstream does) when the
 * destination is unknown: there is no fallback to the local address.
 */
export function acceptWithOrigDst(
  socket: net.Socket,
  deps: { readonly tracker: ConnectionTracker; readonly origDst: OrigDstSource; readonly log: Logger },
  options: SocketOptions,
): SocketAddr | undefined {
  deps.tracker.add(socket);
  // Errors are reported through the forwarding result; this keeps an early one from being uncaught.
  socket.on('error', noop);
  applyAcceptOptions(socket, options, deps.log);
  try {
    return deps.origDst.lookup(socket);
  } catch (err) {
    deps.log.warn('Server failed to accept connection', { error: messageOf(err), client: socket.remoteAddress });
    socket.destroy();
    return undefined;
  }
}

function noop(): void {}
