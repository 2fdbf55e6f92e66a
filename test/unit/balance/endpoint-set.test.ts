import t from 'tap';
import { EndpointSet } from '../../../src/balance/endpoint-set.js';
import type { Endpoint } from '../../../src/balance/endpoint.js';
import type { FailureAccrualConfig } from '../../../src/balance/failure-accrual.js';
import { ManualClock, seeded } from './helpers.js';

interface Meta {
  readonly zone: string;
  readonly labels: Readonly<Record<string, string>>;
}

const meta = (zone: string): Meta => ({ zone, labels: { pod: `p-${zone}` } });
const ep = (addr: string, zone = 'a') => ({ addr, metadata: meta(zone) });

function makeSet(extra: Partial<ConstructorParameters<typeof EndpointSet<Meta>>[0]> = {}) {
  const clock = new ManualClock();
  const events: string[] = [];
  const set = new EndpointSet<Meta>({
    clock,
    random: seeded(11),
    onAdded: (e) => events.push(`+${e.addr}`),
    onRemoved: (e) => events.push(`-${e.addr}`),
    onReady: () => events.push(`ready:${set.readyCount}`),
    ...extra,
  });
  return { clock, set, events };
}

const addrs = (set: EndpointSet<Meta>): string[] => [...set.values()].map((e) => e.addr).sort();

t.test('add upserts by address; remove deletes; noEndpoints clears', async (t) => {
  const { set, events } = makeSet();
  set.add([ep('10.0.0.1:80'), ep('10.0.0.2:80')]);
  t.same(addrs(set), ['10.0.0.1:80', '10.0.0.2:80']);
  t.equal(set.readyCount, 2);
  t.same(events, ['+10.0.0.1:80', '+10.0.0.2:80', 'ready:2'], 'onReady fires once, after the whole update');

  const first = set.get('10.0.0.1:80') as Endpoint<Meta>;
  set.add([ep('10.0.0.1:80')]);
  t.equal(set.get('10.0.0.1:80'), first, 'a redundant add (equal metadata) keeps the endpoint and its load');

  set.add([ep('10.0.0.1:80', 'b')]);
  const replaced = set.get('10.0.0.1:80') as Endpoint<Meta>;
  t.not(replaced, first, 'changed metadata replaces the endpoint');
  t.equal(replaced.metadata.zone, 'b');
  t.equal(first.removed, true, 'the old one is flagged removed');
  t.equal(first.ready, false);

  set.remove(['10.0.0.2:80', '10.9.9.9:80']);
  t.same(addrs(set), ['10.0.0.1:80']);
  set.noEndpoints();
  t.equal(set.size, 0);
  t.equal(set.readyCount, 0);
  t.equal(set.pick(), undefined);
  t.equal(replaced.removed, true);
});

t.test('reset keeps unchanged endpoints, drops missing ones, adds new ones', async (t) => {
  const { set, events } = makeSet();
  set.reset([ep('a:1'), ep('b:1'), ep('c:1')]);
  const b = set.get('b:1');
  events.length = 0;
  set.reset([ep('b:1'), ep('d:1')]);
  t.same(addrs(set), ['b:1', 'd:1']);
  t.equal(set.get('b:1'), b);
  t.same(events.sort(), ['+d:1', '-a:1', '-c:1']);
});

t.test('a removed endpoint keeps serving requests already sent to it', async (t) => {
  const { clock, set } = makeSet();
  set.add([ep('a:1')]);
  const e = set.pick() as Endpoint<Meta>;
  const inflight = e.start();
  set.remove(['a:1']);
  t.equal(e.removed, true);
  t.equal(set.pick(), undefined, 'not picked again');
  clock.advance(40);
  inflight.complete();
  t.equal(e.load.pending, 0, 'its in-flight request completes normally');
  t.equal(e.load.rttEstimate(), 40);
});

t.test('adds are usable by the very next pick', async (t) => {
  const { set } = makeSet();
  t.equal(set.pick(), undefined);
  set.add([ep('a:1')]);
  t.equal(set.pick()?.addr, 'a:1');
});

t.test('endpoints start unready when initiallyConnected is false', async (t) => {
  const { set, events } = makeSet({ initiallyConnected: false });
  set.add([ep('a:1'), ep('b:1')]);
  t.equal(set.readyCount, 0);
  t.equal(set.pick(), undefined);
  t.notOk(events.some((e) => e.startsWith('ready')));
  const b = set.get('b:1') as Endpoint<Meta>;
  b.setConnected(true);
  t.equal(set.pick(), b);
  t.same(events.filter((e) => e.startsWith('ready')), ['ready:1']);
  b.setConnected(false);
  t.equal(set.pick(), undefined, 'losing the connection takes it out of rotation');
});

t.test('updates after close are ignored', async (t) => {
  const { set } = makeSet();
  set.add([ep('a:1')]);
  set.close();
  set.add([ep('b:1')]);
  t.equal(set.size, 0);
});

const accrual: FailureAccrualConfig = {
  kind: 'consecutive-failures',
  maxFailures: 3,
  backoff: { minMs: 1000, maxMs: 4000, jitter: 0 },
};

t.test('failure accrual: consecutive failures eject; a probe after the backoff decides', async (t) => {
  const { clock, set } = makeSet({ failureAccrual: accrual });
  set.add([ep('a:1')]);
  const e = set.get('a:1') as Endpoint<Meta>;

  e.recordOutcome(false);
  e.recordOutcome(false);
  e.recordOutcome(true);
  e.recordOutcome(false);
  e.recordOutcome(false);
  t.equal(e.ready, true, 'a success resets the count');
  e.recordOutcome(false);
  t.equal(e.ready, false, 'max_failures in a row eject the endpoint');
  t.equal(e.ejected, true);
  t.equal(set.pick(), undefined);

  e.recordOutcome(true);
  clock.advance(999);
  t.equal(e.ready, false, 'straggling outcomes while ejected are ignored; still within backoff');
  clock.advance(1);
  t.equal(e.ready, true, 'probation after the backoff');
  t.equal(set.pick(), e, 'the probe');
  t.equal(set.pick(), undefined, 'only one request is admitted in probation');

  e.recordOutcome(false);
  t.equal(e.ready, false, 'failed probe: ejected again');
  clock.advance(1999);
  t.equal(e.ready, false, 'with the doubled backoff');
  clock.advance(1);
  t.equal(set.pick(), e);
  e.recordOutcome(true);
  t.equal(e.ready, true, 'successful probe: back in rotation');
  t.equal(e.ejected, false);
  t.equal(set.pick(), e);
  t.equal(set.pick(), e, 'no longer limited');

  for (let i = 0; i < 3; i++) e.recordOutcome(false);
  clock.advance(1000);
  t.equal(e.ready, true, 'the backoff was reset by the recovery');
});

t.test('failure accrual: onReady fires when an ejected endpoint enters probation', async (t) => {
  const { clock, set, events } = makeSet({ failureAccrual: { ...accrual, maxFailures: 1 } });
  set.add([ep('a:1')]);
  events.length = 0;
  (set.get('a:1') as Endpoint<Meta>).recordOutcome(false);
  t.equal(set.readyCount, 0);
  clock.advance(1000);
  t.same(events, ['ready:1']);
});

t.test('failure accrual is off unless configured', async (t) => {
  const { set } = makeSet();
  set.add([ep('a:1')]);
  const e = set.get('a:1') as Endpoint<Meta>;
  for (let i = 0; i < 100; i++) e.recordOutcome(false);
  t.equal(e.ready, true);
  t.equal(e.ejected, false);
});

t.test('removing an ejected endpoint cancels its backoff timer', async (t) => {
  const { clock, set } = makeSet({ failureAccrual: { ...accrual, maxFailures: 1 } });
  set.add([ep('a:1')]);
  (set.get('a:1') as Endpoint<Meta>).recordOutcome(false);
  t.equal(clock.pendingTimers, 1);
  set.remove(['a:1']);
  t.equal(clock.pendingTimers, 0);
});

t.test('a custom sameMetadata decides whether an add replaces', async (t) => {
  const { set } = makeSet({ sameMetadata: () => true });
  set.add([ep('a:1', 'x')]);
  const first = set.get('a:1');
  set.add([ep('a:1', 'y')]);
  t.equal(set.get('a:1'), first);
});
