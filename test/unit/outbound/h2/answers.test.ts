import t from 'tap';
import { fromH1, grpcCodeForStatus, grpcInjected, streamTimeout, connectFailed } from '../../../../src/outbound/h2/answers.js';
import { LOAD_SHED, NO_BACKENDS, NO_ROUTE, backendFailed, dispatchFailure, identityRequired, injectedFailure, redirect } from '../../../../src/outbound/http/responses.js';
import { ProxyError } from '../../../../src/core/errors.js';

t.test('gRPC codes of the synthetic answers follow spec §4.7', async (t) => {
  t.equal(grpcCodeForStatus(404), 5, 'no route ⇒ NOT_FOUND');
  t.equal(grpcCodeForStatus(302), 5, 'redirect ⇒ NOT_FOUND');
  t.equal(grpcCodeForStatus(403), 7, 'PERMISSION_DENIED');
  t.equal(grpcCodeForStatus(429), 8, 'RESOURCE_EXHAUSTED');
  t.equal(grpcCodeForStatus(502), 14, 'bad gateway ⇒ UNAVAILABLE');
  t.equal(grpcCodeForStatus(503), 14, 'load shed ⇒ UNAVAILABLE');
  t.equal(grpcCodeForStatus(504), 4, 'fail-fast / timeout ⇒ DEADLINE_EXCEEDED');
  t.equal(grpcCodeForStatus(508), 10, 'loop ⇒ ABORTED');
  t.equal(grpcCodeForStatus(500), 13, 'anything else ⇒ INTERNAL');
  t.equal(grpcCodeForStatus(418), 9, 'an injected status ⇒ FAILED_PRECONDITION');
});

t.test('HTTP/1 synthetic responses convert with their message and connection fate', async (t) => {
  t.same(fromH1(NO_ROUTE), { status: 404, grpcStatus: 5, closeConnection: false, message: 'no route' });
  t.equal(fromH1(NO_ROUTE), fromH1(NO_ROUTE), 'frozen answers are converted once');
  t.same(fromH1(LOAD_SHED), { status: 503, grpcStatus: 14, closeConnection: true, message: LOAD_SHED.message });
  t.same(fromH1(NO_BACKENDS), { status: 504, grpcStatus: 4, closeConnection: true, message: 'service in fail-fast' });
  const ff = fromH1(dispatchFailure(new ProxyError('service in fail-fast', 'failfast')));
  t.same([ff.status, ff.grpcStatus, ff.closeConnection], [504, 4, true]);
  const shed = fromH1(dispatchFailure(new ProxyError('queue full', 'loadshed')));
  t.same([shed.status, shed.grpcStatus], [503, 14]);
  t.same([fromH1(backendFailed('x')).status, fromH1(backendFailed('x')).grpcStatus], [502, 14]);
  t.equal(fromH1(identityRequired('a', undefined)).grpcStatus, 14);
  const inj = fromH1(injectedFailure(418, 'teapot'));
  t.same(inj, { status: 418, grpcStatus: 9, closeConnection: false, message: 'teapot' });
  const r = fromH1(redirect(301, 'http://x/'));
  t.same(r, { status: 301, grpcStatus: 5, closeConnection: false, message: 'redirected', location: 'http://x/' });
});

t.test('HTTP/2-only answers', async (t) => {
  t.same(grpcInjected(14, 'injected'), { status: 200, grpcStatus: 14, closeConnection: false, message: 'injected' });
  t.same(streamTimeout('late'), { status: 504, grpcStatus: 4, closeConnection: false, message: 'late' }, 'stream timeouts keep the connection');
  const refused = connectFailed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  t.same([refused.status, refused.grpcStatus, refused.closeConnection], [502, 14, true]);
  const slow = connectFailed(new ProxyError('connect timed out', 'connect-timeout'));
  t.same([slow.status, slow.grpcStatus], [504, 4]);
});
