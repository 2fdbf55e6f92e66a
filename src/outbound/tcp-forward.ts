// Outbound opaque forwarding: an app's redirected connection is spliced to its original destination.
import type net from 'node:net';
import { ProxyError, messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { OutboundConfig } from '../config/types.js';
import { connectWithBackoff, forwardDuplex, isLoopbackIp, type SocketAddr } from '../transport/index.js';

export class LoopbackRefused extends ProxyError {
  constructor() {
    super('Outbound proxy cannot initiate connections on the loopback interface', 'ECONNREFUSED', 'downstream');
  }
}

export interface OutboundForwardDeps {
  readonly config: OutboundConfig;
  readonly log: Logger;
  readonly allowLoopback: boolean;
  readonly onConnected: (server: net.Socket) => void;
}

/**
 * Connects to the original destination, retrying with the configured backoff for as long as
 * the TCP failfast timeout allows (a connection waits there as it would in the Rust proxy's
 * queue), then pipes both ways. Never rejects; a failure closes this connection only.
 */
export async function forwardToOrigDst(client: net.Socket, origDst: SocketAddr, deps: OutboundForwardDeps): Promise<void> {
  if (!deps.allowLoopback && isLoopbackIp(origDst.host)) {
    deps.log.info('Connection closed', { error: new LoopbackRefused().message, client: client.remoteAddress });
    client.resetAndDestroy();
    return;
  }
  const { connect, tcpQueue } = deps.config;
  let server: net.Socket;
  try {
    server = await connectWithBackoff(origDst, {
      timeoutMs: connect.timeoutMs,
      ...(connect.keepaliveMs !== undefined ? { keepaliveMs: connect.keepaliveMs } : {}),
      ...(connect.userTimeoutMs !== undefined ? { userTimeoutMs: connect.userTimeoutMs } : {}),
      backoff: connect.backoff,
      attempts: Number.MAX_SAFE_INTEGER,
      signal: AbortSignal.any([AbortSignal.timeout(tcpQueue.failfastTimeoutMs), closedSignal(client)]),
      log: deps.log,
    });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const reason = cause !== undefined ? `${messageOf(err)}: ${messageOf(cause)}` : messageOf(err);
    deps.log.info('Connection closed', { error: reason, client: client.remoteAddress });
    if (!client.destroyed) client.resetAndDestroy();
    return;
  }
  deps.onConnected(server);
  const result = await forwardDuplex(client, server);
  if (result.error !== undefined) {
    deps.log.info('Connection closed', {
      error: `${result.errorSide === 'a' ? 'client' : 'server'}: ${messageOf(result.error)}`,
      client: client.remoteAddress,
    });
  }
}

/** Aborts when the client goes away, so we stop retrying for nobody. */
function closedSignal(socket: net.Socket): AbortSignal {
  const ac = new AbortController();
  if (socket.destroyed) ac.abort();
  else socket.once('close', () => ac.abort());
  return ac.signal;
}
