// Per-request inbound policy (spec §4.6), in the Rust proxy's order: route, authorization, route
// filters, then the server's local rate limit. Shared by the HTTP/1 and HTTP/2 servers.
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../log/logger.js';
import {
  createRateLimiter,
  formatMeta,
  inboundRejection,
  rateLimitedResponse,
  runGrpcFilters,
  runHttpFilters,
  type ClientConnection,
  type CompiledServerPolicy,
  type MutableHeaders,
  type RateLimiter,
  type ServerPolicy,
  type SyntheticResponse as PolicyResponse,
} from '../../policy/inbound/index.js';
import type { EndpointMetrics } from './metrics.js';
import { RouteMetrics } from './route-metrics.js';
import { logicalName, type RequestView } from './request-view.js';

export type { PolicyResponse };

/** What the gate needs to know about the connection; built once per connection. */
export interface GateConnection {
  readonly client: ClientConnection;
  readonly clientId: string | undefined;
  readonly endpoint: EndpointMetrics;
}

/** Where a request's header modifier filters write (made only if a filter runs). */
export interface HeaderSink {
  mutableHeaders(): MutableHeaders;
}

/** A forwarded request's series, or the answer to send instead (no allocation for the common case). */
export type GateVerdict = RouteMetrics | PolicyResponse;

export function isForward(v: GateVerdict): v is RouteMetrics {
  return v instanceof RouteMetrics;
}

export interface PolicyGateOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** Add the `authority` label (INBOUND_METRICS_AUTHORITY_LABELS=unsafe). */
  readonly authorityLabels?: boolean;
  /** For failure-injection ratios; [0, 1). */
  readonly random?: () => number;
}

export class PolicyGate {
  private readonly limiters = new WeakMap<ServerPolicy, RateLimiter>();
  private readonly random: () => number;

  constructor(private readonly opts: PolicyGateOptions) {
    this.random = opts.random ?? Math.random;
  }

  check(conn: GateConnection, compiled: CompiledServerPolicy, view: RequestView, sink: HeaderSink): GateVerdict {
    const server = compiled.policy;
    const verdict = compiled.authorizeHttp(conn.client, view);
    switch (verdict.kind) {
      case 'not-found':
        conn.endpoint.routeNotFound(server);
        return inboundRejection('not-found');
      case 'denied':
        conn.endpoint.denied(server, verdict.route);
        this.opts.log.info('Request denied', {
          server: formatMeta(server.meta),
          route: formatMeta(verdict.route.meta),
          'client.ip': conn.client.clientIp,
          'client.tls': conn.client.tls.kind,
        });
        return inboundRejection('denied');
      case 'allowed':
        break;
    }
    const authority = this.opts.authorityLabels === true ? logicalAuthority(view) : undefined;
    const metrics = conn.endpoint.route(server, verdict.route, verdict.authz, authority);
    metrics.allowed.inc();
    if (verdict.audit) {
      this.opts.log.info('Request allowed', {
        server: formatMeta(server.meta),
        route: formatMeta(verdict.route.meta),
        authz: formatMeta(verdict.authz.meta),
        'client.ip': conn.client.clientIp,
      });
    }
    const filters = verdict.rule.filters;
    if (filters.length > 0) {
      const out =
        verdict.routeKind === 'http'
          ? runHttpFilters(verdict.rule.filters, view, verdict.match, sink.mutableHeaders(), this.random)
          : runGrpcFilters(verdict.rule.filters, sink.mutableHeaders(), this.random);
      if (out.kind === 'respond') {
        if (out.injected !== undefined && this.opts.log.enabled('debug')) {
          this.opts.log.debug('Injected failure', { status: out.injected.status, message: out.injected.message });
        }
        return out.response;
      }
    }
    const limit = server.localRateLimit;
    if (limit !== undefined) {
      let limiter = this.limiters.get(server);
      if (limiter === undefined) {
        limiter = createRateLimiter(limit, this.opts.clock);
        this.limiters.set(server, limiter);
      }
      const d = limiter.check(conn.clientId);
      if (d.limited) {
        conn.endpoint.rateLimited(server, limit.meta, d.scope === 'total' ? 'total' : 'identity');
        return rateLimitedResponse(d);
      }
    }
    return metrics;
  }
}

/** The `authority` label: the request's logical name, absent for numeric or missing authorities. */
function logicalAuthority(view: RequestView): string | undefined {
  const name = logicalName(view);
  return name === '' ? undefined : name;
}
