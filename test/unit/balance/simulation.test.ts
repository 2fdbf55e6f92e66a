// Simulated traffic through the balancer with simulated latencies on a manual clock.
import t from 'tap';
import { Balancer } from '../../../src/balance/queue.js';
import type { Endpoint } from '../../../src/balance/endpoint.js';
import { ManualClock, seeded } from './helpers.js';

type Meta = { readonly latencyMs: number };

function makeBalancer(seed: number) {
  const clock = new ManualClock();
  const removedBusy: string[] = [];
  const balancer = new Balancer<Meta>({
    clock,
    random: seeded(seed),
    queue: { capacity: 10_000, failfastTimeoutMs: 3000 },
    onRemoved: (ep) => {
      if (ep.load.pending > 0) removedBusy.push(ep.addr);
    },
  });
  return { clock, balancer, removedBusy };
}

/** Sends one request to a synchronously picked endpoint; the response arrives after its latency. */
function send(clock: ManualClock, ep: Endpoint<Meta>, jitter: () => number): void {
  const inflight = ep.start();
  const latency = ep.metadata.latencyMs * (0.8 + 0.4 * jitter());
  clock.setTimer(latency, () => inflight.complete());
}

t.test('an endpoint with 10× the RTT gets measurably less traffic', async (t) => {
  const { clock, balancer } = makeBalancer(31);
  const jitter = seeded(32);
  balancer.endpoints.add([
    { addr: 'fast-1:80', metadata: { latencyMs: 10 } },
    { addr: 'fast-2:80', metadata: { latencyMs: 10 } },
    { addr: 'slow:80', metadata: { latencyMs: 100 } },
  ]);
  const picks = new Map<string, number>();
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    clock.advance(1);
    const ep = balancer.pick();
    if (ep instanceof Promise) throw new Error('pick waited with ready endpoints');
    picks.set(ep.addr, (picks.get(ep.addr) ?? 0) + 1);
    send(clock, ep, jitter);
  }
  clock.advance(1000);
  const slow = picks.get('slow:80') ?? 0;
  const fast1 = picks.get('fast-1:80') ?? 0;
  const fast2 = picks.get('fast-2:80') ?? 0;
  t.ok(slow < n / 6, `slow endpoint got ${slow} of ${n} picks (fast: ${fast1}, ${fast2})`);
  t.ok(slow > 0, 'it is still probed now and then');
  t.ok(Math.abs(fast1 - fast2) < n * 0.1, 'the two fast endpoints share evenly');
  for (const ep of balancer.endpoints.values()) t.equal(ep.load.pending, 0, `${ep.addr} has nothing in flight`);
});

t.test('endpoint churn under load: no failed picks while an endpoint remains', async (t) => {
  const { clock, balancer, removedBusy } = makeBalancer(41);
  const jitter = seeded(42);
  const churn = seeded(43);
  const all: Endpoint<Meta>[] = [];
  let nextId = 0;
  const addOne = (): void => {
    const addr = `10.0.0.${nextId++}:80`;
    balancer.endpoints.add([{ addr, metadata: { latencyMs: 5 + Math.floor(churn() * 20) } }]);
    all.push(balancer.endpoints.get(addr) as Endpoint<Meta>);
  };
  for (let i = 0; i < 3; i++) addOne();

  let failed = 0;
  let pickedRemoved = 0;
  const firstPickAfterAdd = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    clock.advance(1);
    if (i % 50 === 0) {
      const live = [...balancer.endpoints.values()];
      if (live.length > 1 && churn() < 0.5) {
        const victim = live[Math.floor(churn() * live.length)] as Endpoint<Meta>;
        balancer.endpoints.remove([victim.addr]);
      } else {
        addOne();
      }
    }
    const ep = balancer.pick();
    if (ep instanceof Promise) {
      failed++;
      ep.catch(() => undefined);
      continue;
    }
    if (ep.removed) pickedRemoved++;
    if (!firstPickAfterAdd.has(ep.addr)) firstPickAfterAdd.set(ep.addr, i);
    send(clock, ep, jitter);
  }
  clock.advance(1000);
  t.equal(failed, 0, 'every pick got an endpoint synchronously');
  t.equal(pickedRemoved, 0, 'a removed endpoint is never picked');
  t.ok(all.length > 50, `${all.length} endpoints came and went`);
  t.ok(removedBusy.length > 10, `${removedBusy.length} endpoints were removed with requests in flight`);
  t.ok(all.every((e) => e.load.pending === 0), 'requests on removed endpoints still completed');
  const used = all.filter((e) => firstPickAfterAdd.has(e.addr)).length;
  t.ok(used / all.length > 0.8, `${used}/${all.length} endpoints received traffic`);
});
