// One attempt of a request at one endpoint: load tracking, failure accrual and the endpoint and
// route-backend series it is counted in, closed once with how it ended.
import type { Endpoint, InFlight } from '../../balance/index.js';
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import type { EndpointHttpMetrics } from './metrics.js';
import { grpcOutcome, isHttpFailure } from './response-class.js';
import type { RouteBackendSeries, RouteErrorLabel } from './route-metrics.js';

/** How an attempt ended. */
export const A_RESPONSE = 0;
/** A route or attempt deadline passed first. */
export const A_TIMEOUT = 1;
/** The response broke after its head (the client was reset). */
export const A_RESET = 2;
/** No response from the endpoint: the client went away, or the proxy answered for a failure. */
export const A_NONE = 3;
export type AttemptEnd = typeof A_RESPONSE | typeof A_TIMEOUT | typeof A_RESET | typeof A_NONE;

export class Attempt {
  /** The final status seen (relayed or synthetic), 0 before one. */
  status = 0;
  /** Monotonic ms of the response head, -1 before it. */
  headMs = -1;
  /** The response's grpc-status (headers, else trailers) as response-class.ts reads it; used only for gRPC. */
  grpcStatus: number | undefined = undefined;
  private open = true;

  constructor(
    readonly ep: Endpoint<DestinationEndpoint>,
    private readonly inflight: InFlight,
    private readonly metrics: EndpointHttpMetrics,
    private readonly backend: RouteBackendSeries | undefined,
    readonly startMs: number,
    /** Classified by grpc-status rather than HTTP status (response-class.ts classifiedAsGrpc). */
    private readonly grpc = false,
  ) {
    metrics.requests.inc();
    backend?.requests.inc();
  }

  /** A response head from the endpoint (or the proxy's answer in its place). */
  head(status: number, now: number): void {
    if (this.status !== 0) return;
    this.status = status;
    this.headMs = now;
    this.inflight.complete(now);
  }

  /**
   * Closes the attempt. A response is classified as policy routes do: 5xx fails, or for gRPC a
   * failing grpc-status (even inside an HTTP 200); failure accrual sees the same verdict. Every
   * pick is reported to failure accrual, so a probe never stays undecided.
   */
  end(how: AttemptEnd, now: number, timeoutLabel: RouteErrorLabel = 'RESPONSE_STREAM_TIMEOUT'): void {
    if (!this.open) return;
    this.open = false;
    this.inflight.complete(now);
    const m = this.metrics;
    const status = this.status;
    let success = false;
    if (how === A_TIMEOUT) m.timedOut();
    else if (status !== 0) {
      const series = m.status(status);
      if (this.headMs >= 0) series.latency.observe(this.headMs - this.startMs);
      if (how === A_RESET) series.bodyFailed();
      else if (this.grpc) {
        const g = grpcOutcome(this.grpcStatus);
        success = !g.failure;
        series.grpc(g.code, g.failure);
      } else {
        success = !isHttpFailure(status);
        series.classified(!success);
      }
    }
    this.ep.recordOutcome(success);
    const b = this.backend;
    if (b === undefined) return;
    b.responseDuration.observe((now - this.startMs) / 1000);
    if (how === A_TIMEOUT) b.statuses.error(timeoutLabel).inc();
    else if (how === A_RESET) b.statuses.status(status, 'UNKNOWN').inc();
    else if (how === A_RESPONSE) b.statuses.status(status).inc();
    // The proxy answered for a failure (or nobody did): an error, not the endpoint's status.
    else b.statuses.error('UNKNOWN').inc();
  }
}
