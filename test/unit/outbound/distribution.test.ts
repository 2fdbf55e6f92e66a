// Route distributions: first-available and weighted random-available prefer backends that can answer now.
import t from 'tap';
import { Endpoint } from '../../../src/balance/index.js';
import { defaultPolicyMeta } from '../../../src/discovery/index.js';
import type { Backend, DestinationEndpoint, Distribution, OpaqueFilter } from '../../../src/discovery/index.js';
import type { BackendDispatcher } from '../../../src/outbound/context.js';
import { chooseBackend } from '../../../src/outbound/target/distribution.js';

function backend(name: string): Backend {
  return { meta: defaultPolicyMeta(name), queue: { capacity: 10, failfastTimeoutMs: 1000 }, dispatch: { kind: 'fail', message: name } };
}

const a = backend('a');
const b = backend('b');
const c = backend('c');
const ready = new Set<Backend>();
const dispatcherOf = (bk: Backend): BackendDispatcher & { ready: boolean } => ({
  backend: bk,
  ready: ready.has(bk),
  pick: () => Promise.reject<Endpoint<DestinationEndpoint>>(new Error('unused')),
});
const rb = (bk: Backend) => ({ backend: bk, filters: [] as OpaqueFilter[] });
const name = (d: Distribution<OpaqueFilter>, random?: () => number): string | undefined => chooseBackend(d, dispatcherOf, random)?.routeBackend.backend.meta.name;

t.test('first-available takes the first ready backend, else the first one', async (t) => {
  const d: Distribution<OpaqueFilter> = { kind: 'first-available', backends: [rb(a), rb(b), rb(c)] };
  ready.clear();
  t.equal(name(d), 'a', 'none ready: the first waits in its queue');
  ready.add(b).add(c);
  t.equal(name(d), 'b');
  t.equal(name({ kind: 'empty' }), undefined);
});

t.test('random-available draws by weight among ready backends', async (t) => {
  const d: Distribution<OpaqueFilter> = { kind: 'random-available', backends: [{ backend: rb(a), weight: 1 }, { backend: rb(b), weight: 3 }, { backend: rb(c), weight: 0 }] };
  ready.clear();
  ready.add(a).add(b).add(c);
  t.equal(name(d, () => 0.2), 'a', 'r·total = 0.8 falls in a (weight 1)');
  t.equal(name(d, () => 0.3), 'b');
  t.equal(name(d, () => 0.999), 'b', 'zero weight is never drawn');
  ready.delete(b);
  t.equal(name(d, () => 0.9), 'a', 'only ready ones are drawn');
  ready.clear();
  t.equal(name(d, () => 0.9), 'b', 'none ready: a draw over all');
  const zero: Distribution<OpaqueFilter> = { kind: 'random-available', backends: [{ backend: rb(a), weight: 0 }, { backend: rb(b), weight: 0 }] };
  t.equal(name(zero, () => 0.6), 'b', 'all zero: equal weights');
});
