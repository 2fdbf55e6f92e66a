import t from 'tap';
import { Balancer } from '../../../src/balance/queue.js';
import type { BalancerOptions } from '../../../src/balance/queue.js';
import type { Endpoint } from '../../../src/balance/endpoint.js';
import { BalancerClosedError, FailFastError, LoadShedError } from '../../../src/balance/errors.js';
import { ProxyError } from '../../../src/core/errors.js';
import { ManualClock, flush, seeded } from './helpers.js';

type Meta = { readonly n: number };

function makeBalancer(extra: Partial<BalancerOptions<Meta>> = {}) {
  const clock = new ManualClock();
  const balancer = new Balancer<Meta>({
    clock,
    random: seeded(21),
    queue: { capacity: 100, failfastTimeoutMs: 3000 },
    ...extra,
  });
  return { clock, balancer };
}

/** Records how a pending pick settled, without unhandled rejections. */
function track(p: Endpoint<Meta> | Promise<Endpoint<Meta>>) {
  const state: { value?: Endpoint<Meta>; error?: unknown; settled: boolean } = { settled: false };
  if (!(p instanceof Promise)) throw new Error('expected the pick to wait');
  p.then(
    (v) => Object.assign(state, { value: v, settled: true }),
    (e: unknown) => Object.assign(state, { error: e, settled: true }),
  );
  return state;
}

t.test('a ready endpoint is returned synchronously, not as a promise', async (t) => {
  const { balancer } = makeBalancer();
  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  const got = balancer.pick();
  t.notOk(got instanceof Promise);
  t.equal((got as Endpoint<Meta>).addr, 'a:1');
});

t.test('waiters are served in FIFO order when an endpoint appears', async (t) => {
  const { balancer } = makeBalancer();
  const order: number[] = [];
  const picks = [1, 2, 3, 4].map((i) => {
    const p = balancer.pick() as Promise<Endpoint<Meta>>;
    t.ok(p instanceof Promise);
    return p.then((ep) => {
      order.push(i);
      return ep;
    });
  });
  t.equal(balancer.waiting, 4);
  await flush();
  t.same(order, [], 'nobody is served without an endpoint');
  balancer.endpoints.add([
    { addr: 'a:1', metadata: { n: 1 } },
    { addr: 'b:1', metadata: { n: 2 } },
  ]);
  const eps = await Promise.all(picks);
  t.same(order, [1, 2, 3, 4]);
  t.ok(eps.every((e) => e.addr === 'a:1' || e.addr === 'b:1'));
  t.equal(balancer.waiting, 0);
});

t.test('fail-fast: waiters fail after the timeout, new picks fail at once, recovery ends it', async (t) => {
  const { clock, balancer } = makeBalancer();
  const w1 = track(balancer.pick());
  clock.advance(1000);
  const w2 = track(balancer.pick());
  clock.advance(1999);
  await flush();
  t.notOk(w1.settled || w2.settled, 'still waiting just before the timeout');
  clock.advance(1);
  await flush();
  t.ok(w1.error instanceof FailFastError);
  t.ok(w2.error instanceof FailFastError, 'every waiter fails, whenever it arrived');
  t.equal((w1.error as ProxyError).code, 'failfast');
  t.match((w1.error as Error).message, /service in fail-fast/);
  t.ok(w1.error instanceof ProxyError);
  t.equal(balancer.inFailFast, true);
  t.equal(balancer.waiting, 0);

  const w3 = track(balancer.pick());
  await flush();
  t.ok(w3.error instanceof FailFastError, 'a new pick fails without waiting');

  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  t.equal(balancer.inFailFast, false, 'an endpoint becoming ready ends fail-fast');
  const got = balancer.pick();
  t.notOk(got instanceof Promise);
});

t.test('the failfast clock starts when a request first waits, not when endpoints vanish', async (t) => {
  const { clock, balancer } = makeBalancer();
  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  balancer.endpoints.remove(['a:1']);
  clock.advance(60_000);
  const w = track(balancer.pick());
  clock.advance(2999);
  await flush();
  t.equal(w.settled, false);
  clock.advance(1);
  await flush();
  t.ok(w.error instanceof FailFastError);
});

t.test('an endpoint arriving within the timeout cancels fail-fast; the next outage starts afresh', async (t) => {
  const { clock, balancer } = makeBalancer();
  const w1 = track(balancer.pick());
  clock.advance(2000);
  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  await flush();
  t.equal(w1.value?.addr, 'a:1');
  balancer.endpoints.noEndpoints();
  clock.advance(500);
  const w2 = track(balancer.pick());
  clock.advance(2999);
  await flush();
  t.equal(w2.settled, false, 'the earlier wait does not count towards this one');
  t.equal(balancer.inFailFast, false);
  clock.advance(1);
  await flush();
  t.ok(w2.error instanceof FailFastError);
});

t.test('capacity overflow sheds load at once', async (t) => {
  const { clock, balancer } = makeBalancer({ queue: { capacity: 2, failfastTimeoutMs: 3000 } });
  const ac = new AbortController();
  const w1 = track(balancer.pick(ac.signal));
  const w2 = track(balancer.pick());
  const w3 = track(balancer.pick());
  await flush();
  t.ok(w3.error instanceof LoadShedError);
  t.equal((w3.error as ProxyError).code, 'loadshed');
  t.equal((w3.error as Error).message, 'service unavailable');
  t.notOk(w1.settled || w2.settled);
  ac.abort();
  const w4 = track(balancer.pick());
  await flush();
  t.equal(w4.settled, false, 'room again once a waiter left');
  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  await flush();
  t.equal(w2.value?.addr, 'a:1');
  t.equal(w4.value?.addr, 'a:1');
  clock.advance(10_000);
  t.equal(clock.pendingTimers, 0, 'no failfast timer left running');
});

t.test('an aborted pick leaves the queue with the signal reason', async (t) => {
  const { balancer } = makeBalancer();
  const ac = new AbortController();
  const w1 = track(balancer.pick(ac.signal));
  const w2 = track(balancer.pick());
  const reason = new Error('client went away');
  ac.abort(reason);
  await flush();
  t.equal(w1.error, reason);
  t.equal(balancer.waiting, 1);
  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  await flush();
  t.equal(w2.value?.addr, 'a:1');

  const pre = new AbortController();
  pre.abort(reason);
  balancer.endpoints.noEndpoints();
  const w3 = track(balancer.pick(pre.signal));
  await flush();
  t.equal(w3.error, reason, 'an already-aborted signal rejects at once');
  t.equal(balancer.waiting, 0);
});

t.test('close fails waiters and later picks', async (t) => {
  const { clock, balancer } = makeBalancer();
  const w1 = track(balancer.pick());
  balancer.close();
  const w2 = track(balancer.pick());
  await flush();
  t.ok(w1.error instanceof BalancerClosedError);
  t.ok(w2.error instanceof BalancerClosedError);
  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  const after = track(balancer.pick());
  await flush();
  t.ok(after.error instanceof BalancerClosedError, 'endpoints cannot be added after close');
  t.equal(clock.pendingTimers, 0);
  t.equal(balancer.closed, true);
});

t.test('with failure accrual, probation admits one waiter; the rest wait for the probe', async (t) => {
  const { clock, balancer } = makeBalancer({
    failureAccrual: { kind: 'consecutive-failures', maxFailures: 1, backoff: { minMs: 1000, maxMs: 8000, jitter: 0 } },
  });
  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  const e = balancer.pick() as Endpoint<Meta>;
  e.recordOutcome(false);
  const ws = [track(balancer.pick()), track(balancer.pick()), track(balancer.pick())];
  clock.advance(1000);
  await flush();
  t.same(ws.map((w) => w.settled), [true, false, false], 'only the first waiter gets the probe');
  t.equal(ws[0]?.value, e);
  clock.advance(500);
  e.recordOutcome(true);
  await flush();
  t.same(ws.map((w) => w.value?.addr), ['a:1', 'a:1', 'a:1'], 'a good probe releases the rest');
});

t.test('with failure accrual, waiters behind a failed probe fail fast on a fresh timeout', async (t) => {
  const { clock, balancer } = makeBalancer({
    queue: { capacity: 100, failfastTimeoutMs: 1500 },
    failureAccrual: { kind: 'consecutive-failures', maxFailures: 1, backoff: { minMs: 1000, maxMs: 8000, jitter: 0 } },
  });
  balancer.endpoints.add([{ addr: 'a:1', metadata: { n: 1 } }]);
  (balancer.pick() as Endpoint<Meta>).recordOutcome(false);
  const first = track(balancer.pick());
  const second = track(balancer.pick());
  clock.advance(1000);
  await flush();
  t.equal(first.settled, true, 'the probe goes to the first waiter at t=1000');
  (first.value as Endpoint<Meta>).recordOutcome(false); // ejected again until t=3000
  clock.advance(1499);
  await flush();
  t.equal(second.settled, false, 'the timeout restarted when the probe was admitted');
  clock.advance(1);
  await flush();
  t.ok(second.error instanceof FailFastError);
});
