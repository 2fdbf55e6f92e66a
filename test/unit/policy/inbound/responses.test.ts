// Synthetic rejection decisions (spec §4.7) and the filter pipeline that produces them.
import t from 'tap';
import {
  applyHeaderModifier,
  compileServerPolicy,
  inboundRejection,
  INBOUND_REJECTIONS,
  internalErrorResponse,
  invalidPolicy,
  isGrpcRequest,
  rateLimitedResponse,
  ratioHits,
  redirectResponse,
  responseStatus,
  runGrpcFilters,
  runHttpFilters,
  tcpDeniedMessage,
  type HttpFilter,
  type HttpMatchSummary,
} from '../../../../src/policy/inbound/index.js';

t.test('the rejection table', async (t) => {
  t.same(inboundRejection('not-found'), { status: 404, grpcStatus: 5, closeConnection: false, message: 'no route found for request' });
  t.same(inboundRejection('denied'), { status: 403, grpcStatus: 7, closeConnection: false, message: 'unauthorized request on route' });
  t.same(inboundRejection('rate-limited'), { status: 429, grpcStatus: 8, closeConnection: false, message: 'rate limit exceeded' });
  t.same(inboundRejection('unexpected-error'), { status: 500, grpcStatus: 13, closeConnection: true, message: 'unexpected error' });
  t.same(Object.keys(INBOUND_REJECTIONS).sort(), ['denied', 'not-found', 'rate-limited', 'unexpected-error']);
  t.same(rateLimitedResponse({ limited: true, scope: 'total', rps: 3, message: 'total rate limit exceeded: 3rps' }), {
    status: 429,
    grpcStatus: 8,
    closeConnection: false,
    message: 'total rate limit exceeded: 3rps',
  });
  t.same(internalErrorResponse('invalid server configuration'), { status: 500, grpcStatus: 13, closeConnection: true, message: 'invalid server policy: invalid server configuration' });
  t.same(redirectResponse(302, 'https://x/'), { status: 302, grpcStatus: 5, closeConnection: false, message: 'redirected', location: 'https://x/' });
  t.equal(tcpDeniedMessage({ kind: 'default', name: 'deny' }), 'unauthorized connection on default/deny');
});

t.test('gRPC ⇒ HTTP 200 + grpc-status', async (t) => {
  t.ok(isGrpcRequest(2, 'application/grpc'));
  t.ok(isGrpcRequest(2, 'application/grpc+proto'));
  t.notOk(isGrpcRequest(1, 'application/grpc'), 'HTTP/1 is never gRPC');
  t.notOk(isGrpcRequest(2, 'application/json'));
  t.notOk(isGrpcRequest(2, undefined));
  for (const kind of ['not-found', 'denied', 'rate-limited'] as const) {
    const r = inboundRejection(kind);
    t.same(responseStatus(r, true), { httpStatus: 200, grpcStatus: r.grpcStatus }, `${kind} over gRPC`);
    t.same(responseStatus(r, false), { httpStatus: r.status, grpcStatus: undefined }, `${kind} over HTTP`);
  }
});

const PREFIX_MATCH: HttpMatchSummary = { pathKind: 'prefix', pathLength: 4, headers: 0, queryParams: 0, method: false };

function recorder(): { ops: string[]; headers: { append(n: string, v: string): void; set(n: string, v: string): void; delete(n: string): void } } {
  const ops: string[] = [];
  return {
    ops,
    headers: {
      append: (n, v) => ops.push(`append ${n}=${v}`),
      set: (n, v) => ops.push(`set ${n}=${v}`),
      delete: (n) => ops.push(`delete ${n}`),
    },
  };
}

const REQ = { scheme: 'http', authority: 'web.example.com', path: '/foo/bar', query: 'a=1' };

t.test('HTTP filters run in order and stop at the first answer', async (t) => {
  const filters: HttpFilter[] = [
    { kind: 'request-header-modifier', add: [['x-a', '1']], set: [['x-s', '2']], remove: ['x-r'] },
    { kind: 'redirect', scheme: undefined, authority: undefined, path: { kind: 'prefix', prefix: '/v2' }, status: undefined },
    { kind: 'request-header-modifier', add: [['never', 'x']], set: [], remove: [] },
  ];
  const { ops, headers } = recorder();
  const out = runHttpFilters(filters, REQ, PREFIX_MATCH, headers);
  t.same(ops, ['append x-a=1', 'set x-s=2', 'delete x-r'], 'add, set, remove; later filters skipped');
  t.same(out, { kind: 'respond', response: redirectResponse(301, 'http://web.example.com/v2/bar?a=1') });

  const same = runHttpFilters([{ kind: 'redirect', scheme: undefined, authority: undefined, path: undefined, status: undefined }], REQ, PREFIX_MATCH, recorder().headers);
  t.same(same, { kind: 'continue' }, 'a redirect to the same URI is ignored');

  const invalid = runHttpFilters(
    [{ kind: 'redirect', scheme: undefined, authority: undefined, path: { kind: 'prefix', prefix: '/v2' }, status: undefined }],
    REQ,
    { ...PREFIX_MATCH, pathKind: 'exact' },
    recorder().headers,
  );
  t.same(invalid, { kind: 'respond', response: inboundRejection('unexpected-error') }, 'an invalid redirect is a 500');

  const injected = runHttpFilters([{ kind: 'failure-injector', status: 503, message: 'boom', ratio: { numerator: 1, denominator: 1 } }], REQ, PREFIX_MATCH, recorder().headers);
  t.same(injected, { kind: 'respond', response: inboundRejection('unexpected-error'), injected: { status: 503, message: 'boom' } }, 'inbound renders injected failures as 500');
  const skipped = runHttpFilters([{ kind: 'failure-injector', status: 503, message: 'boom', ratio: { numerator: 1, denominator: 4 } }], REQ, PREFIX_MATCH, recorder().headers, () => 0.5);
  t.same(skipped, { kind: 'continue' }, 'a miss of the ratio passes');

  const internal = runHttpFilters([{ kind: 'internal-error', message: 'server policy configured with unknown filter' }], REQ, PREFIX_MATCH, recorder().headers);
  t.same(internal, { kind: 'respond', response: internalErrorResponse('server policy configured with unknown filter') });
  t.same(runHttpFilters([], REQ, PREFIX_MATCH, recorder().headers), { kind: 'continue' });
});

t.test('gRPC filters', async (t) => {
  const { ops, headers } = recorder();
  t.same(runGrpcFilters([{ kind: 'request-header-modifier', add: [], set: [], remove: ['x'] }], headers), { kind: 'continue' });
  t.same(ops, ['delete x']);
  t.same(runGrpcFilters([{ kind: 'failure-injector', code: 14, message: 'm', ratio: { numerator: 0, denominator: 1 } }], headers), { kind: 'continue' }, '0/1 never fires');
  t.same(runGrpcFilters([{ kind: 'failure-injector', code: 14, message: 'm', ratio: { numerator: 1, denominator: 1 } }], headers), {
    kind: 'respond',
    response: inboundRejection('unexpected-error'),
    injected: { status: 14, message: 'm' },
  });
  t.same(runGrpcFilters([{ kind: 'internal-error', message: 'x' }], headers), { kind: 'respond', response: internalErrorResponse('x') });
});

t.test('ratio draws and header modifier order', async (t) => {
  t.ok(ratioHits({ numerator: 1, denominator: 1 }, () => 0.999));
  t.notOk(ratioHits({ numerator: 0, denominator: 5 }, () => 0));
  t.ok(ratioHits({ numerator: 1, denominator: 4 }, () => 0.2));
  t.notOk(ratioHits({ numerator: 1, denominator: 4 }, () => 0.25));
  const { ops, headers } = recorder();
  applyHeaderModifier({ add: [['a', '1'], ['a', '2']], set: [['b', '3']], remove: ['c', 'd'] }, headers);
  t.same(ops, ['append a=1', 'append a=2', 'set b=3', 'delete c', 'delete d']);
});

t.test('the invalid policy never reaches its 500 filter', async (t) => {
  const p = compileServerPolicy(invalidPolicy(10_000));
  const r = p.authorizeHttp({ clientIp: '10.0.0.1', tls: { kind: 'terminated', clientId: 'a.b' } }, { method: 'GET', path: '/', query: undefined, host: undefined, headers: () => undefined });
  t.equal(r.kind, 'denied', '403 comes first, as upstream evaluates authorization before filters');
});
