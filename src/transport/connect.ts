// Outgoing TCP connections with a connect timeout, socket options and optional retries.
import net from 'node:net';
import { ExpBackoff, type BackoffConfig } from '../core/backoff.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ProxyError, errnoOf, messageOf } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { formatAddr, type SocketAddr } from './addr.js';
import { applyConnectOptions } from './socket-options.js';

export interface ConnectOptions {
  /** LINKERD2_PROXY_{INBOUND,OUTBOUND}_CONNECT_TIMEOUT. */
  readonly timeoutMs: number;
  readonly keepaliveMs?: number;
  readonly userTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** Receives a warning if a socket option cannot be set. */
  readonly log?: Logger;
  /** Source address to bind (ignored when its family differs from the destination's). */
  readonly localAddress?: SocketAddr['host'];
}

/**
 * A connection attempt failed. `code` is 'connect-timeout', 'connect-aborted' or the errno
 * (ECONNREFUSED, EHOSTUNREACH, …); the message names the address and the reason.
 */
export class ConnectError extends ProxyError {
  constructor(
    readonly addr: SocketAddr,
    code: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`connect to ${formatAddr(addr)} failed: ${reason}`, code, 'upstream', options);
  }
}

function noop(): void {}

/** Opens a TCP connection (half-open allowed, NODELAY) or rejects with a ConnectError. */
export function connectTcp(addr: SocketAddr, opts: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const { signal } = opts;
    if (signal?.aborted === true) {
      reject(new ConnectError(addr, 'connect-aborted', 'aborted before connecting'));
      return;
    }
    const clock = opts.clock ?? systemClock;
    const connectOpts: net.TcpNetConnectOpts = {
      host: addr.host,
      port: addr.port,
      family: addr.family,
      allowHalfOpen: true,
      ...(opts.localAddress !== undefined && net.isIP(opts.localAddress) === addr.family ? { localAddress: opts.localAddress } : {}),
    };
    const socket = net.connect(connectOpts);
    let cancelTimer = noop;

    const cleanup = (): void => {
      cancelTimer();
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (code: string, reason: string, cause?: unknown): void => {
      cleanup();
      // Late errors from the abandoned socket must not become unhandled.
      socket.on('error', noop);
      socket.destroy();
      reject(new ConnectError(addr, code, reason, cause === undefined ? undefined : { cause }));
    };
    function onConnect(): void {
      cleanup();
      // NODELAY, keepalive and TCP_USER_TIMEOUT all need the connected fd.
      applyConnectOptions(socket, opts, opts.log);
      resolve(socket);
    }
    function onError(err: Error): void {
      const errno = errnoOf(err);
      fail(errno ?? 'connect-error', errno === undefined ? messageOf(err) : describeErrno(errno, err), err);
    }
    function onAbort(): void {
      fail('connect-aborted', 'aborted');
    }
    function onTimeout(): void {
      fail('connect-timeout', `timed out after ${opts.timeoutMs}ms`);
    }

    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    cancelTimer = clock.setTimer(opts.timeoutMs, onTimeout);
  });
}

function describeErrno(errno: string, err: unknown): string {
  switch (errno) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED)';
    case 'EHOSTUNREACH':
      return 'host unreachable (EHOSTUNREACH)';
    case 'ENETUNREACH':
      return 'network unreachable (ENETUNREACH)';
    case 'ETIMEDOUT':
      return 'timed out in the kernel (ETIMEDOUT)';
    default:
      return messageOf(err);
  }
}

export interface BackoffConnectOptions extends ConnectOptions {
  readonly backoff: BackoffConfig;
  /** Total attempts, at least 1. */
  readonly attempts: number;
  /** Called before each retry sleep, e.g. to log. */
  readonly onRetry?: (err: ConnectError, attempt: number, delayMs: number) => void;
  /** Injectable for tests (jitter). */
  readonly random?: () => number;
}

/**
 * connectTcp retried with exponential backoff; rejects with the last attempt's ConnectError,
 * or a 'connect-aborted' one if the signal fires while waiting.
 */
export async function connectWithBackoff(addr: SocketAddr, opts: BackoffConnectOptions): Promise<net.Socket> {
  const clock = opts.clock ?? systemClock;
  const backoff = new ExpBackoff(opts.backoff, opts.random);
  const attempts = Math.max(1, Math.floor(opts.attempts));
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectTcp(addr, opts);
    } catch (err) {
      if (!(err instanceof ConnectError) || err.code === 'connect-aborted' || attempt >= attempts) throw err;
      const delayMs = backoff.next();
      opts.onRetry?.(err, attempt, delayMs);
      await clock.sleep(delayMs, opts.signal);
      if (opts.signal?.aborted === true) {
        throw new ConnectError(addr, 'connect-aborted', `aborted while waiting to retry (after ${attempt} attempts)`, {
          cause: err,
        });
      }
    }
  }
}
