// The outbound HTTP/1 server: serves an app connection's requests through the target's client
// policy, with pools and HTTP/2 sessions shared by all connections of one proxy.
import type net from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { serveHttp1, type ServeHttp1Options } from '../../http/h1/index.js';
import { InFlightLimit } from '../../inbound/http/in-flight.js';
import { formatAddr } from '../../transport/index.js';
import type { EndpointConnector, OutboundRuntime, OutboundTarget } from '../context.js';
import { OutboundHttp1Connection, type ConnectionDeps } from './connection.js';
import { OutboundHttpClients } from './endpoint-clients.js';
import { outboundHttpErrors } from './errors-metric.js';
import { outboundRouteMetrics } from './route-metrics.js';

export interface OutboundHttp1Options {
  readonly clock?: Clock;
  /** For weighted backend choice and failure injection; default Math.random. */
  readonly random?: () => number;
}

export class OutboundHttp1 {
  readonly clients: OutboundHttpClients;
  /** OUTBOUND_MAX_IN_FLIGHT across every connection of this proxy. */
  readonly inFlight: InFlightLimit;
  /** What every connection shares; the HTTP/2 server builds on it. */
  readonly shared: ConnectionDeps;
  private readonly serveOptions: ServeHttp1Options;

  constructor(
    readonly rt: OutboundRuntime,
    connector: EndpointConnector,
    opts: OutboundHttp1Options = {},
  ) {
    const clock = opts.clock ?? systemClock;
    const log = rt.log.child('http');
    this.clients = new OutboundHttpClients(rt, connector, { clock });
    this.inFlight = new InFlightLimit(rt.config.maxInFlight);
    this.shared = {
      clients: this.clients,
      clock,
      random: opts.random ?? Math.random,
      failfastTimeoutMs: rt.config.httpQueue.failfastTimeoutMs,
      inFlight: this.inFlight,
      routeMetrics: outboundRouteMetrics(rt.metrics, rt.config.metricsHostnameLabels),
      errors: outboundHttpErrors(rt.metrics),
    };
    this.serveOptions = {
      // Informational headers go to the app unless disabled, or in ingress mode (spec §4.7).
      emitHeaders: !(rt.config.ingressMode || rt.config.disableInformationalHeaders),
      log,
      clock,
    };
  }

  /**
   * Serves `client` until it closes; `initial` holds bytes already read from it (pass an empty
   * buffer after detectOutboundHttp, which puts what it read back on the socket). Never rejects.
   */
  serve(client: net.Socket, target: OutboundTarget, initial: Buffer): Promise<void> {
    const release = target.hold();
    const conn = new OutboundHttp1Connection(this.shared, target, formatAddr(target.origDst));
    client.once('close', conn.clientClosed);
    return serveHttp1(client, initial, conn, this.serveOptions).finally(release);
  }

  /** Closes pooled connections and HTTP/2 sessions (shutdown, tests). */
  close(): void {
    this.clients.close();
  }
}

const shared = new WeakMap<OutboundRuntime, WeakMap<EndpointConnector, OutboundHttp1>>();

/** The one OutboundHttp1 of a runtime and connector, so pools and sessions are shared. */
export function outboundHttp1(rt: OutboundRuntime, connector: EndpointConnector): OutboundHttp1 {
  let byConnector = shared.get(rt);
  if (byConnector === undefined) {
    byConnector = new WeakMap();
    shared.set(rt, byConnector);
  }
  let s = byConnector.get(connector);
  if (s === undefined || s.clients.closed) {
    s = new OutboundHttp1(rt, connector);
    byConnector.set(connector, s);
  }
  return s;
}

/** Serves one outbound HTTP/1 connection (see OutboundHttp1.serve). */
export function serveOutboundHttp1(
  client: net.Socket,
  target: OutboundTarget,
  connector: EndpointConnector,
  rt: OutboundRuntime,
  initial: Buffer,
): Promise<void> {
  return outboundHttp1(rt, connector).serve(client, target, initial);
}
