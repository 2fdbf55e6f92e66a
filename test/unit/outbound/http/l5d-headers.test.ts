// Parsing the l5d-retry-* and l5d-*-timeout request headers and merging them with a route's policy.
import t from 'tap';
import type { HttpRetry, HttpRule } from '../../../../src/discovery/outbound-policy-types.js';
import { RequestParser, ResponseParser, type RequestHead, type ResponseHead } from '../../../../src/http/h1/index.js';
import { l5dOverrides, parseDuration, parseGrpcConditions, parseHttpConditions } from '../../../../src/outbound/http/l5d-headers.js';
import { effectiveRetry, effectiveTimeouts, retryableResponse } from '../../../../src/outbound/http/retry-policy.js';

function req(headers: string): RequestHead {
  const r = new RequestParser().feed(Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\n${headers}\r\n`, 'latin1'));
  if (r.kind !== 'head') throw new Error(`bad head: ${r.kind}`);
  return r.head;
}

function res(status: number, headers = ''): ResponseHead {
  const r = new ResponseParser().feed(Buffer.from(`HTTP/1.1 ${status} X\r\n${headers}\r\n`, 'latin1'));
  if (r.kind !== 'head') throw new Error(`bad head: ${r.kind}`);
  return r.head;
}

function rule(retry: HttpRetry | undefined, allow: boolean, timeouts: Partial<HttpRule['timeouts']> = {}): HttpRule {
  return {
    matches: [],
    filters: [],
    distribution: { kind: 'empty' },
    timeouts: { responseMs: undefined, requestMs: undefined, idleMs: undefined, ...timeouts },
    retry,
    allowL5dRequestHeaders: allow,
  };
}

const POLICY: HttpRetry = { maxRetries: 2, maxRequestBytes: 1000, statusRanges: [[500, 599]], timeoutMs: 300, backoff: { minMs: 10, maxMs: 20, jitter: 0, respectRetryAfterHint: false } };

t.test('durations: N(ms|s|m|h|d) or a bare 0; anything else is ignored', async (t) => {
  t.equal(parseDuration('150ms'), 150);
  t.equal(parseDuration('2s'), 2000);
  t.equal(parseDuration('3m'), 180_000);
  t.equal(parseDuration('1h'), 3_600_000);
  t.equal(parseDuration('1d'), 86_400_000);
  t.equal(parseDuration(' 5s '), 5000);
  t.equal(parseDuration('0'), 0);
  for (const bad of ['5', '1.5s', '-1s', 's', '10us', '']) t.equal(parseDuration(bad), undefined, JSON.stringify(bad));
});

t.test('HTTP conditions: 5xx, gateway-error, single codes and ranges; invalid items are skipped', async (t) => {
  t.same(parseHttpConditions('5xx'), [[500, 599]]);
  t.same(parseHttpConditions('gateway-error'), [[502, 504]]);
  t.same(parseHttpConditions('503,429'), [[503, 503], [429, 429]]);
  t.same(parseHttpConditions('500-504'), [[500, 504]]);
  t.same(parseHttpConditions('504-500,600,abc, 503'), [], 'reversed ranges, out-of-range codes and spaces are not understood');
  t.same(parseHttpConditions('5XX,Gateway-Error'), [[500, 599], [502, 504]], 'case-insensitive');
});

t.test('gRPC conditions by name', async (t) => {
  t.same(parseGrpcConditions('cancelled,deadline-exceeded,internal,resource-exhausted,unavailable'), [1, 4, 13, 8, 14]);
  t.same(parseGrpcConditions('UNAVAILABLE,bogus'), [14]);
});

t.test('overrides are read only when a request carries some; the first value counts', async (t) => {
  t.equal(l5dOverrides(req('x-other: 1\r\n')), undefined);
  const o = l5dOverrides(req('l5d-retry-limit: 4\r\nl5d-retry-limit: 9\r\nl5d-timeout: 1s\r\nl5d-request-timeout: 2s\r\nl5d-response-timeout: junk\r\n'))!;
  t.equal(o.retryLimit, 4);
  t.equal(o.requestTimeoutMs, 2000, 'l5d-request-timeout wins over l5d-timeout');
  t.equal(o.responseTimeoutMs, undefined, 'an unparsable value is ignored');
  t.same([...o.present].sort(), ['l5d-request-timeout', 'l5d-response-timeout', 'l5d-retry-limit', 'l5d-timeout'], 'all present headers are consumed');
});

t.test('the effective retry: the policy, overridden field by field where allowed; header-only defaults', async (t) => {
  const o = l5dOverrides(req('l5d-retry-http: 503\r\nl5d-retry-limit: 5\r\nl5d-retry-timeout: 50ms\r\n'));
  t.equal(effectiveRetry(rule(POLICY, false), o)?.maxRetries, 2, 'not allowed: the policy as it is');
  const merged = effectiveRetry(rule(POLICY, true), o)!;
  t.same(merged.statusRanges, [[503, 503]]);
  t.equal(merged.maxRetries, 5);
  t.equal(merged.timeoutMs, 50);
  t.equal(merged.maxRequestBytes, 1000, 'max_request_bytes only from the policy');
  t.same(merged.backoff, { minMs: 10, maxMs: 20, jitter: 0 });
  const headerOnly = effectiveRetry(rule(undefined, true), l5dOverrides(req('l5d-retry-http: 5xx\r\n')))!;
  t.equal(headerOnly.maxRetries, 1, 'limit 1 by default');
  t.equal(headerOnly.maxRequestBytes, 64 * 1024);
  t.same(headerOnly.backoff, { minMs: 25, maxMs: 250, jitter: 1 });
  t.equal(effectiveRetry(rule(undefined, true), l5dOverrides(req('l5d-timeout: 1s\r\n'))), undefined, 'timeouts alone make no retry policy');
  t.equal(effectiveRetry(rule(undefined, false), undefined), undefined);
});

t.test('effective timeouts and retryable responses', async (t) => {
  const r = rule(undefined, true, { responseMs: 1000, requestMs: 5000 });
  t.same(effectiveTimeouts(r, undefined), { responseMs: 1000, requestMs: 5000 });
  t.same(effectiveTimeouts(r, l5dOverrides(req('l5d-response-timeout: 10ms\r\nl5d-timeout: 20ms\r\n'))), { responseMs: 10, requestMs: 20 });
  t.same(effectiveTimeouts(rule(undefined, false, { responseMs: 0 }), undefined), { responseMs: undefined, requestMs: undefined }, 'zero means none');
  const p = effectiveRetry(rule(undefined, true), l5dOverrides(req('l5d-retry-http: 502-504\r\nl5d-retry-grpc: unavailable\r\n')))!;
  t.ok(retryableResponse(p, res(503)));
  t.notOk(retryableResponse(p, res(500)));
  t.ok(retryableResponse(p, res(200, 'grpc-status: 14\r\n')), 'a retryable grpc-status in the head');
  t.notOk(retryableResponse(p, res(200, 'grpc-status: 0\r\n')));
});
