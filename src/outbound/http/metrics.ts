// Legacy per-endpoint HTTP families (request_total, response_latency_ms, response_total) and the
// outbound series bound once per endpoint and status (spec §8.2).
import type { DestinationEndpoint } from '../../discovery/destination-types.js';
import { httpFamilies, type HttpFamilies } from '../../metrics/http-families.js';
import {
  joinLabels,
  prefixLabels,
  renderLabels,
  targetAddrLabels,
  tlsConnectLabels,
  type LabelSet,
  type LegacyCounter,
  type LegacyHistogram,
  type TlsConnect,
} from '../../metrics/index.js';
import { GRPC_MAX_CODE } from './response-class.js';

export { httpFamilies, type HttpFamilies };

/**
 * `direction="outbound",[authority],target_*,<tls-connect>,dst_*` — the Rust OutboundEndpointLabels.
 * `authority` is the balanced backend's logical name; forward targets have none.
 */
export function outboundEndpointLabels(endpoint: DestinationEndpoint, tls: TlsConnect, authority: string | undefined): LabelSet {
  return {
    direction: 'outbound',
    ...(authority === undefined ? {} : { authority }),
    ...targetAddrLabels({ ip: endpoint.addr.host, port: endpoint.addr.port }),
    ...tlsConnectLabels(tls),
    ...prefixLabels('dst', endpoint.metricLabels),
  };
}

const SUCCESS = 'classification="success",grpc_status="",error=""';
const FAILURE = 'classification="failure",grpc_status="",error=""';
const UNCLASSIFIED = 'classification="failure",grpc_status="",error="unclassified"';
const TIMEOUT = 'classification="failure",grpc_status="",error="timeout"';

/** The series of one response status of one endpoint, created when that status is first seen. */
export class StatusSeries {
  readonly latency: LegacyHistogram;
  private success: LegacyCounter | undefined;
  private failure: LegacyCounter | undefined;
  private broken: LegacyCounter | undefined;
  /** One counter per grpc-status code (0..16), bound when that code is first seen. */
  private grpcCodes: (LegacyCounter | undefined)[] | undefined;

  constructor(
    private readonly f: HttpFamilies,
    private readonly labels: string,
  ) {
    this.latency = f.responseLatencyMs.get(labels);
  }

  /** A complete non-gRPC response, classified as policy routes do: 5xx fails. */
  classified(failed: boolean): void {
    if (failed) (this.failure ??= this.f.responseTotal.get(joinLabels(this.labels, FAILURE))).inc();
    else (this.success ??= this.f.responseTotal.get(joinLabels(this.labels, SUCCESS))).inc();
  }

  /** A complete gRPC response counted by its code (see response-class.ts); `failure` follows from the code. */
  grpc(code: number, failure: boolean): void {
    const byCode = (this.grpcCodes ??= new Array<LegacyCounter | undefined>(GRPC_MAX_CODE + 1));
    let c = byCode[code];
    if (c === undefined) {
      const cls = failure ? 'failure' : 'success';
      c = byCode[code] = this.f.responseTotal.get(joinLabels(this.labels, `classification="${cls}",grpc_status="${code}",error=""`));
    }
    c.inc();
  }

  /** The response body broke after its head (the Rust classifier's non-h2 `unclassified`). */
  bodyFailed(): void {
    (this.broken ??= this.f.responseTotal.get(joinLabels(this.labels, UNCLASSIFIED))).inc();
  }
}

/** Every series of one endpoint under one authority; statuses are bound lazily and kept. */
export class EndpointHttpMetrics {
  readonly requests: LegacyCounter;
  private readonly labels: string;
  private readonly statuses = new Map<number, StatusSeries>();
  private timeouts: LegacyCounter | undefined;

  constructor(
    private readonly f: HttpFamilies,
    labels: LabelSet,
  ) {
    this.labels = renderLabels(labels);
    this.requests = f.requestTotal.get(this.labels);
  }

  status(code: number): StatusSeries {
    let s = this.statuses.get(code);
    if (s === undefined) {
      s = new StatusSeries(this.f, joinLabels(this.labels, `status_code="${code}"`));
      this.statuses.set(code, s);
    }
    return s;
  }

  /** The route's response timeout fired: an error without status, as the Rust classifier reports it. */
  timedOut(): void {
    (this.timeouts ??= this.f.responseTotal.get(joinLabels(this.labels, TIMEOUT))).inc();
  }
}
