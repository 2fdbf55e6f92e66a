// The inbound HTTP/1 server: the shared HTTP/1 engine with a handler that authorizes each
// request against the port's current policy and forwards it to the app's pooled connections.
import type { Clock } from '../../core/clock.js';
import {
  serveHttp1,
  type ForwardDecision,
  type HeadEdits,
  type Http1Handler,
  type Http1Outcome,
  type RequestHead,
  type ResponseHead,
  type RouteDecision,
} from '../../http/h1/index.js';
import type { Logger } from '../../log/logger.js';
import type { InboundConnection, InboundRuntime } from '../context.js';
import type { AppClients } from './app-clients.js';
import type { ConnectionContext } from './connection-context.js';
import { H1HeaderEdits, clientIdEdits } from './header-edits.js';
import { countGrpcResponse, parseGrpcStatus, type RouteMetrics } from './route-metrics.js';
import { isForward, type HeaderSink, type PolicyGate } from './policy-gate.js';
import { H1RequestView, LogicalNames } from './request-view.js';
import { toH1Synthetic } from './synthetic.js';
import { LOAD_SHED_RESPONSE, type InFlightLimit } from './in-flight.js';
import { inboundHttpFor } from './inbound-http.js';

export interface Http1ServerDeps {
  readonly gate: PolicyGate;
  readonly app: AppClients;
  readonly log: Logger;
  readonly clock: Clock;
  readonly context: (conn: InboundConnection) => ConnectionContext;
  readonly inFlight: InFlightLimit;
}

const EMPTY = Buffer.alloc(0);

/**
 * Serves HTTP/1 on an inbound connection through the runtime's shared InboundHttp (its app
 * pools are shared by every connection). `initial`: bytes already taken off the stream.
 */
export function serveInboundHttp1(conn: InboundConnection, rt: InboundRuntime, initial?: Buffer): Promise<void> {
  return inboundHttpFor(rt).serveHttp1(conn, initial);
}

/**
 * Serves HTTP/1 on `conn.stream` until it closes (never rejects). `initial` holds bytes already
 * taken off the stream; bytes that detection put back must not be passed again.
 */
export function serveInboundHttp1Connection(conn: InboundConnection, deps: Http1ServerDeps, initial?: Buffer): Promise<void> {
  const handler = new InboundHttp1Handler(conn, deps);
  return serveHttp1(conn.stream, initial ?? EMPTY, handler, {
    emitHeaders: handler.ctx.emitHeaders,
    log: deps.log,
    clock: deps.clock,
  });
}

/** Per connection: requests on an HTTP/1 connection are sequential, so one set of fields serves all. */
class InboundHttp1Handler implements Http1Handler, HeaderSink {
  readonly ctx: ConnectionContext;
  private readonly view = new H1RequestView();
  private readonly names = new LogicalNames();
  private readonly baseEdits: HeadEdits;
  private req: RequestHead | undefined;
  private edits: H1HeaderEdits | undefined;
  private metrics: RouteMetrics | undefined;
  private grpc = false;
  /** This request holds an in-flight slot (released when it ends). */
  private holding = false;
  private grpcStatus: number | undefined;
  private startMs = 0;
  private headMs = -1;
  /** Most connections carry one authority: its decision is reused. */
  private lastLogical: string | undefined;
  private lastDecision: ForwardDecision | undefined;

  constructor(
    private readonly conn: InboundConnection,
    private readonly deps: Http1ServerDeps,
  ) {
    this.ctx = deps.context(conn);
    this.baseEdits = clientIdEdits(this.ctx.clientId);
  }

  route(req: RequestHead): RouteDecision {
    if (!this.deps.inFlight.tryAcquire()) return { kind: 'respond', response: toH1Synthetic(LOAD_SHED_RESPONSE) };
    this.holding = true;
    this.req = req;
    this.edits = undefined;
    this.metrics = undefined;
    const view = this.view.reset(req, this.ctx.origDst);
    const verdict = this.deps.gate.check(this.ctx.gate, this.conn.policy.current(), view, this);
    if (!isForward(verdict)) return { kind: 'respond', response: toH1Synthetic(verdict) };
    verdict.countRequest();
    this.metrics = verdict;
    const ct = req.header('content-type');
    this.grpc = ct !== undefined && ct.startsWith('application/grpc');
    this.grpcStatus = undefined;
    const logical = this.names.get(view);
    let d = logical === this.lastLogical ? this.lastDecision : undefined;
    if (d === undefined) {
      const app = this.deps.app.endpoint(this.conn.target);
      d = {
        kind: 'forward',
        pool: app.pool,
        target: app.target(logical),
        requestEdits: this.baseEdits,
        onResponseHead: this.onUpstreamHead,
      };
      this.lastLogical = logical;
      this.lastDecision = d;
    }
    // Header modifier filters (run by the gate) may have made edits for this request alone.
    const edits = this.edits as H1HeaderEdits | undefined;
    return edits === undefined ? d : { ...d, requestEdits: edits.toEdits() };
  }

  mutableHeaders(): H1HeaderEdits {
    this.edits ??= new H1HeaderEdits(this.req!, this.ctx.clientId);
    return this.edits;
  }

  onRequestStart(): void {
    this.startMs = this.deps.clock.monotonic();
    this.headMs = -1;
  }

  onResponseHead(): void {
    this.headMs = this.deps.clock.monotonic();
  }

  onRequestEnd(_req: RequestHead, status: number, _durationMs: number, outcome: Http1Outcome): void {
    if (this.holding) {
      this.holding = false;
      this.deps.inFlight.release();
    }
    const m = this.metrics;
    if (m === undefined) return;
    this.metrics = undefined;
    if (status === 0) return;
    if (this.headMs >= 0) m.observeLatency(status, this.headMs - this.startMs);
    if (outcome === 'upstream-reset') m.countError(status, 'unclassified');
    else if (this.grpc) countGrpcResponse(m, status, this.grpcStatus);
    else m.countHttp(status);
  }

  /** gRPC responses are classified by their grpc-status (HTTP/1 carries it in the head only). */
  private readonly onUpstreamHead = (res: ResponseHead): undefined => {
    if (this.grpc) this.grpcStatus = parseGrpcStatus(res.header('grpc-status'));
    return undefined;
  };
}
