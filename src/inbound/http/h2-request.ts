// One forwarded HTTP/2 stream's bookkeeping: latency at the response head, the response's
// classification at its end, and synthetic answers when the app fails first.
import type http2 from 'node:http2';
import type { Clock } from '../../core/clock.js';
import type { SyntheticResponse as PolicyResponse } from '../../policy/inbound/index.js';
import type { H1ExchangeObserver } from './h1-exchange.js';
import { countGrpcResponse, type RouteMetrics } from './route-metrics.js';
import { respondH2 } from './synthetic.js';

/** One forwarded stream's bookkeeping: latency, response classification, synthetic answers. */
export class H2Request implements H1ExchangeObserver {
  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly metrics: RouteMetrics,
    private readonly grpc: boolean,
    private readonly emitHeaders: boolean,
    private readonly start: number,
    private readonly clock: Clock,
  ) {}

  responseStarted(status: number): void {
    this.metrics.observeLatency(status, this.clock.monotonic() - this.start);
  }

  failed(resp: PolicyResponse): void {
    respondH2(this.stream, resp, this.grpc, this.emitHeaders);
    const status = this.grpc ? 200 : resp.status;
    this.responseStarted(status);
    if (this.grpc) countGrpcResponse(this.metrics, status, resp.grpcStatus);
    else this.metrics.countHttp(status);
  }

  finished(status: number, grpcStatus: number | undefined, error: string | undefined): void {
    if (error !== undefined) this.metrics.countError(status, error);
    else if (status === 0) return;
    else if (this.grpc) countGrpcResponse(this.metrics, status, grpcStatus);
    else this.metrics.countHttp(status);
  }
}
