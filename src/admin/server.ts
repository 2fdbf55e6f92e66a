// The admin HTTP/1 server (/live, /ready, /metrics, /proxy-log-level, /env.json, /shutdown) on
// an already bound listener.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import { messageOf } from '../core/errors.js';
import { isLoopbackAddress } from './localhost.js';
import { textResponse } from './response.js';
import { routeAdmin, type AdminContext, type AdminRequest, type RouteResult } from './routes.js';

/** Log filters are short; anything bigger is not a filter. */
const MAX_BODY_BYTES = 64 * 1024;

export interface AdminServerOptions extends AdminContext {
  /** Bound listener; may be paused-on-connect. The admin server owns it from now on. */
  readonly listen: Server;
  /** Sees every accepted socket before HTTP starts (e.g. inbound accept transport metrics). */
  readonly onConnection?: (socket: Socket) => void;
}

export interface AdminServer {
  /**
   * Stops accepting, closes idle connections at once and the others after their in-flight
   * responses, then closes the listener. Idempotent.
   */
  close(): Promise<void>;
}

export function startAdminServer(opts: AdminServerOptions): AdminServer {
  // requireHostHeader off: the Rust admin server (hyper) answers requests without Host.
  const http = createServer({ requireHostHeader: false });
  const inFlight = new Map<Socket, number>();
  let closing: Promise<void> | undefined;

  const onConnection = (socket: Socket): void => {
    if (closing !== undefined) {
      socket.destroy();
      return;
    }
    inFlight.set(socket, 0);
    socket.on('close', () => inFlight.delete(socket));
    try {
      opts.onConnection?.(socket);
    } catch (err) {
      opts.logger.warn('admin connection hook failed', { error: messageOf(err) });
    }
    http.emit('connection', socket);
    // Listeners made with pauseOnConnect hand over sockets that read nothing until resumed.
    socket.resume();
  };
  opts.listen.on('connection', onConnection);

  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const n = (inFlight.get(socket) ?? 1) - 1;
      if (inFlight.has(socket)) inFlight.set(socket, n);
      if (closing !== undefined && n <= 0) socket.destroy();
    });
    serve(req, res, opts, closing !== undefined).catch((err: unknown) => {
      opts.logger.warn('admin request failed', { error: messageOf(err) });
      res.destroy();
    });
  });

  return {
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        opts.listen.off('connection', onConnection);
        for (const [socket, n] of inFlight) if (n === 0) socket.destroy();
        // The callback also fires (with ERR_SERVER_NOT_RUNNING) if the listener was closed already.
        opts.listen.close(() => resolve());
      });
      return closing;
    },
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: AdminContext,
  closing: boolean,
): Promise<void> {
  const { path, query } = splitTarget(req.url ?? '/');
  const adminReq: AdminRequest = {
    method: req.method ?? 'GET',
    path,
    query,
    accept: req.headersDistinct['accept']?.[0],
    acceptEncoding: req.headers['accept-encoding'],
    clientIsLocal: isLoopbackAddress(req.socket.remoteAddress),
    readBody: () => readBody(req),
  };
  let result: RouteResult;
  try {
    result = await routeAdmin(adminReq, ctx);
  } catch (err) {
    ctx.logger.error('admin request failed', { path, error: messageOf(err) });
    result = { response: textResponse(500, messageOf(err)) };
  }
  const { status, headers = {}, body } = result.response;
  if (!res.writable) return;
  for (const name in headers) res.setHeader(name, headers[name] as string | string[]);
  if (closing) res.setHeader('connection', 'close');
  // No writeHead: letting end() send the headers gives a Content-Length instead of chunking.
  res.statusCode = status;
  res.end(body);
  if (result.afterSend !== undefined) {
    try {
      result.afterSend();
    } catch (err) {
      ctx.logger.error('admin action failed', { path, error: messageOf(err) });
    }
  }
}

/** Path and raw query of a request target (origin-form as sent; absolute-form via URL). */
function splitTarget(target: string): { path: string; query: string | undefined } {
  const q = target.indexOf('?');
  const query = q < 0 ? undefined : target.slice(q + 1);
  const before = q < 0 ? target : target.slice(0, q);
  if (before.startsWith('/') || before === '*') return { path: before, query };
  try {
    return { path: new URL(before).pathname, query };
  } catch {
    return { path: before, query };
  }
}

/** Resolves with the body, or undefined as soon as it exceeds MAX_BODY_BYTES. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
