// The inbound HTTP servers of a runtime and what they share: the app connection pools, the
// policy gate, the metric series and the HTTP/2 server.
import { InFlightLimit } from './in-flight.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { InboundConnection, InboundRuntime } from '../context.js';
import { AppClients } from './app-clients.js';
import { connectionContext } from './connection-context.js';
import { inboundHttpMetrics } from './metrics.js';
import { PolicyGate } from './policy-gate.js';
import { serveInboundHttp1Connection } from './serve-http1.js';
import { InboundH2Server } from './serve-h2.js';

/** The inbound HTTP servers of one runtime. */
export interface InboundHttp {
  /** Serves HTTP/1 on `conn.stream`; `initial` = bytes already taken off it (not put back). */
  serveHttp1(conn: InboundConnection, initial?: Buffer): Promise<void>;
  /** Serves HTTP/2 (prior knowledge) on `conn.stream`; `initial` as for serveHttp1. */
  serveH2(conn: InboundConnection, initial?: Buffer): Promise<void>;
  /** Closes pooled app connections and live HTTP/2 sessions. */
  close(): void;
}

export interface InboundHttpOptions {
  readonly clock?: Clock;
  /** For failure-injection filters; returns [0, 1). */
  readonly random?: () => number;
}

/** Made once per runtime: app connection pools are shared by every connection it serves. */
export function createInboundHttp(rt: InboundRuntime, opts: InboundHttpOptions = {}): InboundHttp {
  const clock = opts.clock ?? systemClock;
  const log = rt.log;
  const metrics = inboundHttpMetrics(rt.metrics, { authorityLabels: rt.config.metricsAuthorityLabels });
  const gate = new PolicyGate({
    log,
    clock,
    authorityLabels: rt.config.metricsAuthorityLabels,
    ...(opts.random !== undefined ? { random: opts.random } : {}),
  });
  const app = new AppClients(rt);
  const context = (conn: InboundConnection) => connectionContext(conn, metrics);
  // One limit for the runtime, as the Rust proxy's concurrency limit covers its whole HTTP server.
  const inFlight = new InFlightLimit(rt.config.maxInFlight);
  const h1 = { gate, app, log, clock, context, inFlight };
  const h2 = new InboundH2Server({ gate, app, log, clock, context, inFlight, settings: rt.config.server.http2 });
  return {
    serveHttp1: (conn, initial) => serveInboundHttp1Connection(conn, h1, initial),
    serveH2: (conn, initial) => {
      if (initial !== undefined && initial.length > 0 && !conn.stream.destroyed) conn.stream.unshift(initial);
      return h2.serve(conn);
    },
    close: () => {
      h2.close();
      app.close();
    },
  };
}

const perRuntime = new WeakMap<InboundRuntime, InboundHttp>();

/** The runtime's InboundHttp, created on first use. */
export function inboundHttpFor(rt: InboundRuntime): InboundHttp {
  let h = perRuntime.get(rt);
  if (h === undefined) {
    h = createInboundHttp(rt);
    perRuntime.set(rt, h);
  }
  return h;
}
