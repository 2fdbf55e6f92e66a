// The override header is dropped from every attempt a request makes, retries included, without
// losing the decision's own edits or the in-place response-edit updates forward decisions rely on.
import t from 'tap';
import type { ForwardDecision, ForwardRetry, HeadEdits, RequestHead, ResponseHead, RouteDecision } from '../../../../src/http/h1/index.js';
import { stripOverride } from '../../../../src/outbound/ingress/strip-override.js';

function forward(edits: HeadEdits | undefined, retry?: ForwardRetry): ForwardDecision {
  return {
    kind: 'forward',
    pool: {} as ForwardDecision['pool'],
    target: {} as ForwardDecision['target'],
    ...(edits !== undefined && { requestEdits: edits }),
    ...(retry !== undefined && { retry }),
  };
}

t.test('forward decisions drop l5d-dst-override and keep their edits; local answers pass through', async (t) => {
  const shared: HeadEdits = { remove: ['l5d-require-id'], set: [['l5d-client-id', 'x']] };
  const d = forward(shared);
  const out = stripOverride(d) as ForwardDecision;
  t.equal(out, d, 'edited in place (its response hook updates the same object)');
  t.same(out.requestEdits, { remove: ['l5d-require-id', 'l5d-dst-override'], set: [['l5d-client-id', 'x']] });
  t.same(shared.remove, ['l5d-require-id'], 'the shared edits are not changed');
  t.equal((stripOverride(forward(shared)) as ForwardDecision).requestEdits, out.requestEdits, 'computed once per edits object');
  t.same((stripOverride(forward(undefined)) as ForwardDecision).requestEdits, { remove: ['l5d-dst-override'] });
  const respond: RouteDecision = { kind: 'respond', response: { status: 404, close: false } };
  t.equal(stripOverride(respond), respond);
  const later = (await stripOverride(Promise.resolve(forward(shared)))) as ForwardDecision;
  t.same(later.requestEdits?.remove, ['l5d-require-id', 'l5d-dst-override'], 'a decision that comes later too');
});

t.test('the decisions retries make are stripped too; the retry limits are read live', async (t) => {
  const inner = {
    maxRequestBytes: 64,
    attemptTimeoutMs: 100 as number | undefined,
    retryResponse: (): Promise<RouteDecision> => Promise.resolve(forward({ remove: ['a'] }, inner)),
    retryTimeout: (): RouteDecision | undefined => undefined,
  };
  const d = stripOverride(forward(undefined, inner)) as ForwardDecision;
  const retry = d.retry!;
  t.not(retry, inner);
  inner.attemptTimeoutMs = undefined;
  t.equal(retry.attemptTimeoutMs, undefined);
  t.equal(retry.maxRequestBytes, 64);
  const next = (await retry.retryResponse({} as ResponseHead, {} as RequestHead)) as ForwardDecision;
  t.same(next.requestEdits?.remove, ['a', 'l5d-dst-override']);
  t.equal(next.retry, retry, 'one wrapper per retry object');
  t.equal(retry.retryTimeout({} as RequestHead), undefined, 'no retry: no decision');
});
