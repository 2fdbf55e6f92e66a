// What every stream of the outbound HTTP/2 server shares (per proxy), and what it knows of its connection.
import type http2 from 'node:http2';
import type { Logger } from '../../log/logger.js';
import type { OutboundTarget } from '../context.js';
import type { ConnectionDeps } from '../http/connection.js';

/** The HTTP/1 server's shared pieces (clients, sessions, in-flight limit, metrics), plus: */
export interface H2Deps extends ConnectionDeps {
  /** l5d-proxy-error / grpc-message on the proxy's own answers (spec §4.7). */
  readonly emitHeaders: boolean;
  readonly log: Logger;
}

export interface H2ConnectionContext {
  readonly target: OutboundTarget;
  /** The original destination `ip:port`: the authority of requests that name none. */
  readonly origDst: string;
  readonly session: http2.ServerHttp2Session;
}
