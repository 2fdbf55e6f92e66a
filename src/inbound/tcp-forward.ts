// Inbound opaque forwarding: a redirected connection is spliced to the app at its original destination.
import type net from 'node:net';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { abortSocket, connectTcp, forwardDuplex, socketAddr, type SocketAddr } from '../transport/index.js';
import type { InboundConfig } from '../config/types.js';
import { ProxyError } from '../core/errors.js';

/**
 * Where an inbound connection goes once accepted: the address it was sent to (IP and port,
 * IPv4-mapped IPv6 normalised to IPv4), as upstream's inbound connects to the orig dst. The
 * app must therefore listen on that IP (or the wildcard), not only on loopback.
 */
export function appAddr(origDst: SocketAddr): SocketAddr {
  return socketAddr(origDst.host, origDst.port);
}

export class InboundLoopError extends ProxyError {
  constructor(port: number) {
    super(`inbound connection must not target port ${port}`, 'inbound-loop', 'downstream');
  }
}

export interface InboundForwardDeps {
  readonly config: InboundConfig;
  /** The inbound listener's own port, which the inbound side must never dial. */
  readonly inboundPort: number;
  readonly log: Logger;
  /** Called with the app-side socket once connected (metrics, tracking). */
  readonly onConnected: (server: net.Socket) => void;
}

/**
 * Connects to the app and pipes both ways. Resolves when both sides are closed; never rejects:
 * a failure closes this connection only and is logged once with its reason.
 */
export async function forwardToApp(client: net.Socket, origDst: SocketAddr, deps: InboundForwardDeps): Promise<void> {
  const target = appAddr(origDst);
  if (target.port === deps.inboundPort) {
    deps.log.info('Connection closed', { error: new InboundLoopError(deps.inboundPort).message });
    client.destroy();
    return;
  }
  const { connect } = deps.config;
  let server: net.Socket;
  try {
    server = await connectTcp(target, {
      timeoutMs: connect.timeoutMs,
      ...(connect.keepaliveMs !== undefined ? { keepaliveMs: connect.keepaliveMs } : {}),
      ...(connect.userTimeoutMs !== undefined ? { userTimeoutMs: connect.userTimeoutMs } : {}),
      log: deps.log,
    });
  } catch (err) {
    deps.log.info('Connection closed', { error: messageOf(err), client: client.remoteAddress });
    abortSocket(client);
    return;
  }
  deps.onConnected(server);
  const result = await forwardDuplex(client, server);
  if (result.error !== undefined) {
    deps.log.info('Connection closed', {
      error: `${result.errorSide === 'a' ? 'client' : 'app'}: ${messageOf(result.error)}`,
      client: client.remoteAddress,
    });
  } else {
    deps.log.debug('Connection closed', { client: client.remoteAddress, aToB: result.aToB, bToA: result.bToA });
  }
}
