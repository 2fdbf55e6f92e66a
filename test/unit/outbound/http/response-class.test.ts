// The response classifier shared by both directions' response_total and outbound failure accrual:
// which requests are gRPC, how grpc-status is read, and which codes fail (upstream classify.rs).
import t from 'tap';
import {
  GRPC_UNKNOWN,
  classifiedAsGrpc,
  grpcCode,
  grpcOutcome,
  isGrpcFailure,
  isHttpFailure,
} from '../../../../src/outbound/http/response-class.js';

t.test('gRPC requests: every call on a GRPCRoute, and application/grpc* on an HTTPRoute', async (t) => {
  t.equal(classifiedAsGrpc('grpc', undefined), true, 'a GRPCRoute classifies by grpc-status whatever the content-type');
  t.equal(classifiedAsGrpc('grpc', 'text/plain'), true);
  t.equal(classifiedAsGrpc('http', 'application/grpc'), true);
  t.equal(classifiedAsGrpc('http', 'application/grpc+proto'), true);
  t.equal(classifiedAsGrpc('http', 'application/grpc-web'), true, 'a prefix match, as upstream is_grpc');
  t.equal(classifiedAsGrpc('http', 'application/json'), false);
  t.equal(classifiedAsGrpc('http', undefined), false);
  t.equal(classifiedAsGrpc('http', 'Application/grpc'), false, 'the match is case-sensitive, as upstream');
});

t.test('grpc-status is read as a u16; unknown codes are Unknown; unreadable values are absent', async (t) => {
  t.equal(grpcCode('0'), 0);
  t.equal(grpcCode('14'), 14);
  t.equal(grpcCode('16'), 16);
  t.equal(grpcCode('007'), 7, 'leading zeros');
  t.equal(grpcCode('+5'), 5, "Rust's integer parse takes a plus sign");
  t.equal(grpcCode('17'), GRPC_UNKNOWN, 'beyond tonic’s codes ⇒ Unknown');
  t.equal(grpcCode('65535'), GRPC_UNKNOWN);
  t.equal(grpcCode('65536'), undefined, 'not a u16 ⇒ no status here');
  t.equal(grpcCode('-1'), undefined);
  t.equal(grpcCode(' 1'), undefined);
  t.equal(grpcCode('x'), undefined);
  t.equal(grpcCode(''), undefined);
  t.equal(grpcCode(undefined), undefined);
  t.equal(grpcCode(['13', '0']), 13, 'the first value of a repeated header');
});

t.test('failing codes are upstream’s defaults', async (t) => {
  const failing = [];
  for (let c = 0; c <= 16; c++) if (isGrpcFailure(c)) failing.push(c);
  // Unknown, DeadlineExceeded, PermissionDenied, Internal, Unavailable, DataLoss.
  t.same(failing, [2, 4, 7, 13, 14, 15]);
});

t.test('outcomes: the code decides; no grpc-status at all is Unknown yet a success', async (t) => {
  t.same(grpcOutcome(0), { code: 0, failure: false });
  t.same(grpcOutcome(5), { code: 5, failure: false }, 'NOT_FOUND is an answer, not a failure');
  t.same(grpcOutcome(14), { code: 14, failure: true });
  t.same(grpcOutcome(13), { code: 13, failure: true });
  t.same(grpcOutcome(2), { code: 2, failure: true }, 'an explicit Unknown fails');
  t.same(grpcOutcome(undefined), { code: 2, failure: false }, 'a missing status is Unknown but not a failure (upstream eos)');
  t.equal(grpcOutcome(0), grpcOutcome(0), 'outcomes are shared objects, not made per response');
});

t.test('HTTP responses: 5xx fails', async (t) => {
  t.equal(isHttpFailure(200), false);
  t.equal(isHttpFailure(404), false);
  t.equal(isHttpFailure(499), false);
  t.equal(isHttpFailure(500), true);
  t.equal(isHttpFailure(503), true);
  t.equal(isHttpFailure(599), true);
  t.equal(isHttpFailure(600), false, 'upstream’s default range is 500..=599');
});
