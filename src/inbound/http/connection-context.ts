// What both inbound HTTP servers derive once per connection: the authorization view of the
// client, its metric series root, its identity header and whether errors are explained to it.
import { formatAddr } from '../../transport/index.js';
import type { InboundConnection } from '../context.js';
import { clientTlsOf } from '../tcp-authz.js';
import type { InboundHttpMetrics } from './metrics.js';
import type { GateConnection } from './policy-gate.js';

export interface ConnectionContext {
  readonly gate: GateConnection;
  readonly clientId: string | undefined;
  /** l5d-proxy-error & co. only for meshed clients: mTLS with a client identity (spec §4.7). */
  readonly emitHeaders: boolean;
  /** `IP:port` of the original destination: the authority of requests that name none. */
  readonly origDst: string;
}

export function connectionContext(conn: InboundConnection, metrics: InboundHttpMetrics): ConnectionContext {
  const clientId = conn.clientId;
  return {
    gate: {
      client: { clientIp: conn.clientIp, tls: clientTlsOf(conn.tls) },
      clientId,
      endpoint: metrics.endpoint(conn.target, conn.tls),
    },
    clientId,
    emitHeaders: clientId !== undefined,
    origDst: formatAddr(conn.target),
  };
}
