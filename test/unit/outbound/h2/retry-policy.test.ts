import t from 'tap';
import type { GrpcRule, HttpRule } from '../../../../src/discovery/outbound-policy-types.js';
import { effectiveRetryH2, effectiveTimeoutsH2, l5dOverridesH2, parseGrpcStatus, retryableH2 } from '../../../../src/outbound/h2/retry-policy.js';

const timeouts = { responseMs: 1000, requestMs: 5000, idleMs: undefined };
const backoff = { minMs: 10, maxMs: 100, jitter: 0, respectRetryAfterHint: false };

function grpcRule(allow: boolean): GrpcRule {
  return {
    matches: [],
    filters: [],
    distribution: { kind: 'empty' },
    timeouts,
    retry: { maxRetries: 3, maxRequestBytes: 1000, codes: [14], timeoutMs: 250, backoff },
    allowL5dRequestHeaders: allow,
  };
}

t.test('a gRPC rule retries its codes, never HTTP statuses', async (t) => {
  const rule = grpcRule(false);
  const p = effectiveRetryH2('grpc', rule, undefined)!;
  t.same(p.grpcCodes, [14]);
  t.equal(p.statusRanges, undefined);
  t.equal(p.maxRetries, 3);
  t.equal(p.timeoutMs, 250);
  t.equal(retryableH2(p, 200, 14), true, 'UNAVAILABLE');
  t.equal(retryableH2(p, 200, 13), false, 'INTERNAL is not in the conditions');
  t.equal(retryableH2(p, 503, undefined), false, 'HTTP statuses are not considered');
  t.equal(effectiveRetryH2('grpc', rule, undefined), p, 'converted once per policy object');
});

t.test('l5d headers override a gRPC rule only where allowed', async (t) => {
  const o = l5dOverridesH2({ 'l5d-retry-grpc': 'internal,deadline-exceeded', 'l5d-retry-limit': '1', 'l5d-timeout': '2s', 'l5d-response-timeout': '300ms' })!;
  t.same([...o.present].sort(), ['l5d-response-timeout', 'l5d-retry-grpc', 'l5d-retry-limit', 'l5d-timeout']);
  t.same(effectiveRetryH2('grpc', grpcRule(false), o)!.grpcCodes, [14], 'not allowed: the policy stands');
  const allowed = effectiveRetryH2('grpc', grpcRule(true), o)!;
  t.same(allowed.grpcCodes, [13, 4]);
  t.equal(allowed.maxRetries, 1);
  t.equal(allowed.maxRequestBytes, 1000, 'the replay limit stays the policy’s');
  t.same(effectiveTimeoutsH2('grpc', grpcRule(true), o), { responseMs: 300, requestMs: 2000 });
  t.same(effectiveTimeoutsH2('grpc', grpcRule(false), o), { responseMs: 1000, requestMs: 5000 });
  t.equal(l5dOverridesH2({ 'content-type': 'application/grpc' }), undefined, 'no l5d headers: nothing to parse');
});

t.test('header-only retries on a rule without a policy', async (t) => {
  const rule: HttpRule = { matches: [], filters: [], distribution: { kind: 'empty' }, timeouts, retry: undefined, allowL5dRequestHeaders: true };
  t.equal(effectiveRetryH2('http', rule, undefined), undefined, 'no policy, no headers: sent once');
  const p = effectiveRetryH2('http', rule, l5dOverridesH2({ 'l5d-retry-http': '5xx' }))!;
  t.same(p.statusRanges, [[500, 599]]);
  t.equal(p.maxRetries, 1, 'header-only default limit');
  t.equal(retryableH2(p, 502, undefined), true);
  const g = effectiveRetryH2('grpc', { ...grpcRule(true), retry: undefined }, l5dOverridesH2({ 'l5d-retry-grpc': 'unavailable' }))!;
  t.same(g.grpcCodes, [14]);
  t.equal(g.maxRequestBytes, 64 * 1024);
});

t.test('grpc-status values', async (t) => {
  t.equal(parseGrpcStatus('14'), 14);
  t.equal(parseGrpcStatus(['0', '1']), 0);
  t.equal(parseGrpcStatus('x'), undefined);
  t.equal(parseGrpcStatus(undefined), undefined);
});
