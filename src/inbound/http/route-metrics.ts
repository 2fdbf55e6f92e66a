// The per-route HTTP series (request_total / response_latency_ms / response_total) and how a
// response is classified, over the endpoint families both proxy directions share.
import { httpFamilies, type HttpFamilies } from '../../metrics/http-families.js';
import {
  type LegacyCounter,
  type LegacyHistogram,
} from '../../metrics/index.js';
import { grpcCode, grpcOutcome, isHttpFailure } from '../../outbound/http/response-class.js';

/** The three per-endpoint HTTP families both directions share (src/metrics/http-families.ts). */
export type HttpEndpointFamilies = HttpFamilies;
export const httpEndpointFamilies = httpFamilies;

/**
 * Counts a gRPC response the way the Rust proxy classifies one: its `grpc-status` (headers, else
 * trailers) decides; a response that never says is counted as `Unknown` but not as a failure.
 */
export function countGrpcResponse(rm: RouteMetrics, status: number, code: number | undefined): void {
  const g = grpcOutcome(code);
  rm.countGrpc(status, g.code, g.failure);
}

/** A `grpc-status` header value as a code (upstream's reading: codes beyond 16 are Unknown), or undefined. */
export const parseGrpcStatus = grpcCode;

/** Rendered once per label set: each series object is reused for every later request. */
export class RouteMetrics {
  /** `inbound_http_authz_allow_total`. */
  readonly allowed: LegacyCounter;
  private readonly latencies = new Map<number, LegacyHistogram>();
  private readonly responses = new Map<number, LegacyCounter>();
  private readonly errors = new Map<string, LegacyCounter>();
  /** Bound on the first forwarded request: a route whose requests are all answered locally has none. */
  private requests: LegacyCounter | undefined;

  constructor(
    private readonly families: HttpEndpointFamilies,
    /** `direction,[authority],target_*,tls…,srv_*,route_*,authz_*`. */
    private readonly labels: string,
    allowed: LegacyCounter,
  ) {
    this.allowed = allowed;
  }

  /** `request_total`: a request went on to the app. */
  countRequest(): void {
    (this.requests ??= this.families.requestTotal.get(this.labels)).inc();
  }

  /** Time from the request head to the response head, by status. */
  observeLatency(status: number, ms: number): void {
    let h = this.latencies.get(status);
    if (h === undefined) {
      h = this.families.responseLatencyMs.get(`${this.labels},status_code="${status}"`);
      this.latencies.set(status, h);
    }
    h.observe(ms);
  }

  /** A finished non-gRPC response: 5xx is a failure. */
  countHttp(status: number): void {
    let c = this.responses.get(status);
    if (c === undefined) {
      const cls = isHttpFailure(status) ? 'failure' : 'success';
      c = this.families.responseTotal.get(`${this.labels},status_code="${status}",classification="${cls}",grpc_status="",error=""`);
      this.responses.set(status, c);
    }
    c.inc();
  }

  /** A finished gRPC response with its `grpc-status` (from headers or trailers). */
  countGrpc(status: number, code: number, failure: boolean): void {
    const key = -((status * 0x10000 + code) * 2 + (failure ? 1 : 0)) - 1;
    let c = this.responses.get(key);
    if (c === undefined) {
      const cls = failure ? 'failure' : 'success';
      c = this.families.responseTotal.get(`${this.labels},status_code="${status}",classification="${cls}",grpc_status="${code}",error=""`);
      this.responses.set(key, c);
    }
    c.inc();
  }

  /** A response cut short by a stream error (`h2(REASON)`, `unclassified`); status 0 if none began. */
  countError(status: number, error: string): void {
    const key = `${status}|${error}`;
    let c = this.errors.get(key);
    if (c === undefined) {
      const code = status > 0 ? `,status_code="${status}"` : '';
      c = this.families.responseTotal.get(`${this.labels}${code},classification="failure",grpc_status="",error="${error}"`);
      this.errors.set(key, c);
    }
    c.inc();
  }
}
