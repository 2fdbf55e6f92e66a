// An HTTP/2 request's effective retry policy and timeouts (spec §5.5): the HTTP or gRPC rule's,
// with the l5d-retry-* / l5d-*-timeout headers' overrides on routes that allow them.
import type { GrpcRetry, GrpcRule, HttpRule } from '../../discovery/outbound-policy-types.js';
import { L5D_REQUEST_HEADERS, parseDuration, parseGrpcConditions, parseHttpConditions, type L5dOverrides } from '../http/l5d-headers.js';
import { effectiveRetry, effectiveTimeouts, type RequestTimeouts, type RetryPolicy } from '../http/retry-policy.js';

export type { RequestTimeouts, RetryPolicy };

/** Request headers as node:http2 hands them over. */
export type H2Headers = Readonly<Record<string, string | string[] | undefined>>;

function first(h: H2Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The l5d overrides in HTTP/2 request headers, or undefined when none is present. */
export function l5dOverridesH2(h: H2Headers): L5dOverrides | undefined {
  let present: string[] | undefined;
  for (const name of L5D_REQUEST_HEADERS) if (h[name] !== undefined) (present ??= []).push(name);
  if (present === undefined) return undefined;
  const limit = first(h, 'l5d-retry-limit');
  const n = limit !== undefined && /^\+?\d+$/.test(limit) ? Number(limit) : undefined;
  return {
    retryHttp: parseHttpConditions(first(h, 'l5d-retry-http')),
    retryGrpc: parseGrpcConditions(first(h, 'l5d-retry-grpc')),
    retryLimit: n !== undefined && Number.isSafeInteger(n) ? n : undefined,
    retryTimeoutMs: parseDuration(first(h, 'l5d-retry-timeout')),
    requestTimeoutMs: parseDuration(first(h, 'l5d-request-timeout')) ?? parseDuration(first(h, 'l5d-timeout')),
    responseTimeoutMs: parseDuration(first(h, 'l5d-response-timeout')),
    present,
  };
}

const fromGrpc = new WeakMap<GrpcRetry, RetryPolicy>();

function grpcPolicy(r: GrpcRetry): RetryPolicy {
  let p = fromGrpc.get(r);
  if (p === undefined) {
    p = Object.freeze({
      maxRetries: r.maxRetries,
      maxRequestBytes: r.maxRequestBytes,
      statusRanges: undefined,
      grpcCodes: r.codes,
      timeoutMs: r.timeoutMs !== undefined && r.timeoutMs > 0 ? r.timeoutMs : undefined,
      backoff: r.backoff === undefined ? undefined : { minMs: r.backoff.minMs, maxMs: r.backoff.maxMs, jitter: r.backoff.jitter },
    });
    fromGrpc.set(r, p);
  }
  return p;
}

/** The HTTP rule's view of a gRPC rule: the HTTP helpers then apply the header overrides alike. */
const asHttp = new WeakMap<GrpcRule, HttpRule>();

function httpShape(rule: GrpcRule): HttpRule {
  let h = asHttp.get(rule);
  if (h === undefined) {
    h = { matches: [], filters: [], distribution: { kind: 'empty' }, timeouts: rule.timeouts, retry: undefined, allowL5dRequestHeaders: rule.allowL5dRequestHeaders };
    asHttp.set(rule, h);
  }
  return h;
}

/** The retry policy of one request on an HTTP or gRPC rule; undefined when it is sent once. */
export function effectiveRetryH2(kind: 'http' | 'grpc', rule: HttpRule | GrpcRule, o: L5dOverrides | undefined): RetryPolicy | undefined {
  if (kind === 'http') return effectiveRetry(rule as HttpRule, o);
  const g = rule as GrpcRule;
  const base = g.retry === undefined ? undefined : grpcPolicy(g.retry);
  if (o === undefined || !g.allowL5dRequestHeaders) return base;
  const headerOnly = effectiveRetry(httpShape(g), o);
  if (base === undefined) return headerOnly;
  return {
    maxRetries: o.retryLimit ?? base.maxRetries,
    maxRequestBytes: base.maxRequestBytes,
    statusRanges: o.retryHttp ?? base.statusRanges,
    grpcCodes: o.retryGrpc ?? base.grpcCodes,
    timeoutMs: (o.retryTimeoutMs !== undefined && o.retryTimeoutMs > 0 ? o.retryTimeoutMs : undefined) ?? base.timeoutMs,
    backoff: base.backoff,
  };
}

export function effectiveTimeoutsH2(kind: 'http' | 'grpc', rule: HttpRule | GrpcRule, o: L5dOverrides | undefined): RequestTimeouts {
  return effectiveTimeouts(kind === 'http' ? (rule as HttpRule) : httpShape(rule as GrpcRule), o);
}

/** Whether a response head (or its peeked trailers) asks for another attempt. */
export function retryableH2(p: RetryPolicy, status: number, grpcStatus: number | undefined): boolean {
  if (grpcStatus !== undefined && p.grpcCodes !== undefined && p.grpcCodes.includes(grpcStatus)) return true;
  const ranges = p.statusRanges;
  if (ranges !== undefined) for (const [a, b] of ranges) if (status >= a && status <= b) return true;
  return false;
}

/** A `grpc-status` value, when it is a number. */
export function parseGrpcStatus(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && /^\d{1,5}$/.test(s) ? Number(s) : undefined;
}
