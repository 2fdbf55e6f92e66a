// How one HTTP/2 request ended, for the route's request series: the status the app saw, whether it
// was relayed or the proxy's own, and the route error label (spec §8.3 `error`).
import { ProxyError } from '../../core/errors.js';
import type { OutboundHttpErrorKind } from '../http/errors-metric.js';
import type { RouteErrorLabel, RouteSeries } from '../http/route-metrics.js';

export class RequestOutcome {
  /** The final status the app saw; 0 before (or without) one. */
  status = 0;
  /** An endpoint's response head reached the app. */
  relayed = false;
  /** Why the proxy answered (or ended the response) itself. */
  localKind: OutboundHttpErrorKind | undefined = undefined;
  label: RouteErrorLabel | undefined = undefined;

  /** The proxy answered with `status` (200 for gRPC requests). */
  local(status: number, kind: OutboundHttpErrorKind, label: RouteErrorLabel | undefined): void {
    this.status = status;
    this.localKind = kind;
    this.label = label;
  }

  /** Counts the request once its stream is gone. */
  record(s: RouteSeries, durationMs: number): void {
    s.requestDuration.observe(durationMs / 1000);
    const label = this.label;
    if (this.status === 0) s.statuses.error(label ?? 'UNKNOWN').inc();
    else if (this.localKind !== undefined && !this.relayed) (label !== undefined ? s.statuses.error(label) : s.statuses.status(this.status)).inc();
    else (label !== undefined ? s.statuses.status(this.status, label) : s.statuses.status(this.status)).inc();
  }
}

/** Route-level error labels and outbound_http_errors_total kinds of the dispatch failures. */
export function dispatchErrorKinds(err: unknown): { kind: OutboundHttpErrorKind; label: RouteErrorLabel } {
  const code = err instanceof ProxyError ? err.code : undefined;
  if (code === 'failfast') return { kind: 'failfast', label: 'FAIL_FAST' };
  if (code === 'loadshed') return { kind: 'loadshed', label: 'LOAD_SHED' };
  return { kind: 'unexpected', label: 'UNKNOWN' };
}
