// What every stream of the outbound HTTP/2 server shares (per proxy), and what it knows of its connection.
import type http2 from 'node:http2';
import type { Clock } from '../../core/clock.js';
import type { InFlightLimit } from '../../inbound/http/in-flight.js';
import type { Logger } from '../../log/logger.js';
import type { OutboundTarget } from '../context.js';
import type { OutboundHttpClients } from '../http/endpoint-clients.js';
import type { OutboundHttpErrors } from '../http/errors-metric.js';
import type { OutboundRouteMetrics } from '../http/route-metrics.js';

export interface H2Deps {
  /** Endpoint clients, metrics and HTTP/2 sessions, shared with the HTTP/1 server. */
  readonly clients: OutboundHttpClients;
  readonly clock: Clock;
  readonly random: () => number;
  /** A route without backends never becomes ready: its requests fail fast after this long. */
  readonly failfastTimeoutMs: number;
  /** OUTBOUND_MAX_IN_FLIGHT, shared with the HTTP/1 server. */
  readonly inFlight: InFlightLimit;
  readonly routeMetrics: OutboundRouteMetrics;
  readonly errors: OutboundHttpErrors;
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
