// Shared watches: one underlying watch per key, current value on subscribe, idle eviction on the injected clock.
import t from 'tap';
import { silentLogger } from '../../../src/log/logger.js';
import { SharedWatches, WatchClosedError, type WatchSink } from '../../../src/discovery/shared-watches.js';
import { TestClock } from '../control/helpers/test-clock.js';

function setup(opts: { retain?: (k: string) => boolean; replay?: (v: string) => string } = {}) {
  const clock = new TestClock();
  const started: { key: string; sink: WatchSink<string>; closed: boolean }[] = [];
  const watches = new SharedWatches<string, string>({
    keyOf: (k) => k,
    idleTimeoutMs: 5000,
    clock,
    logger: silentLogger,
    ...opts,
    start: (key, sink) => {
      const w = { key, sink, closed: false };
      started.push(w);
      return { close: () => (w.closed = true) };
    },
  });
  return { clock, started, watches };
}

t.test('subscribers of one key share one watch and each gets the current value at once', async (t) => {
  const { started, watches } = setup();
  const a: string[] = [];
  const b: string[] = [];
  watches.subscribe('web:80', (v) => a.push(v));
  started[0]?.sink.publish('v1');
  watches.subscribe('web:80', (v) => b.push(v));
  t.equal(started.length, 1);
  t.same(b, ['v1'], 'late subscriber sees the current value immediately');
  started[0]?.sink.publish('v2');
  t.same(a, ['v1', 'v2']);
  t.same(b, ['v1', 'v2']);
  watches.subscribe('other:80');
  t.equal(started.length, 2, 'another key, another watch');
});

t.test('late subscribers get the replayed form of the current value', async (t) => {
  const { started, watches } = setup({ replay: (v) => `reset(${v})` });
  watches.subscribe('k');
  started[0]?.sink.publish('add');
  const seen: string[] = [];
  watches.subscribe('k', (v) => seen.push(v));
  t.same(seen, ['reset(add)']);
});

t.test('an unsubscribed key is evicted after the idle timeout, not before', async (t) => {
  const { clock, started, watches } = setup();
  const s1 = watches.subscribe('k');
  const s2 = watches.subscribe('k');
  s1.unsubscribe();
  t.same(clock.pending, [], 'no countdown while a subscriber remains');
  s2.unsubscribe();
  t.same(clock.pending, [5000]);
  clock.advance(4999);
  t.equal(started[0]?.closed, false);
  const s3 = watches.subscribe('k');
  t.same(clock.pending, [], 'resubscribing cancels the countdown');
  s3.unsubscribe();
  clock.advance(5000);
  t.equal(started[0]?.closed, true);
  t.equal(watches.size, 0);
  watches.subscribe('k');
  t.equal(started.length, 2, 'a later subscriber starts a fresh watch');
});

t.test('retained keys are never evicted; ensure() starts a watch without a subscriber', async (t) => {
  const { clock, started, watches } = setup({ retain: (k) => k === '8080' });
  watches.ensure('8080');
  watches.ensure('9090');
  t.same(clock.pending, [5000], 'only the lazily discovered key counts down');
  watches.subscribe('8080').unsubscribe();
  clock.advance(60_000);
  t.equal(started.find((w) => w.key === '8080')?.closed, false);
  t.equal(started.find((w) => w.key === '9090')?.closed, true);
});

t.test('first() resolves with the first value, rejects when the subscription ends first', async (t) => {
  const { started, watches } = setup();
  const s = watches.subscribe('k');
  const first = s.first();
  started[0]?.sink.publish('v1');
  t.equal(await first, 'v1');
  t.equal(await s.first(), 'v1', 'known value resolves at once');
  const other = watches.subscribe('j');
  const pending = other.first();
  other.unsubscribe();
  await t.rejects(pending, WatchClosedError);
  const third = watches.subscribe('z');
  const p3 = third.first();
  watches.close();
  await t.rejects(p3, WatchClosedError);
  t.ok(started.every((w) => w.closed), 'close() closes every watch');
});

t.test('a throwing subscriber does not stop the others', async (t) => {
  const { started, watches } = setup();
  const seen: string[] = [];
  watches.subscribe('k', () => {
    throw new Error('boom');
  });
  watches.subscribe('k', (v) => seen.push(v));
  started[0]?.sink.publish('v');
  t.same(seen, ['v']);
});

t.test('an evicted key that cannot reach the control plane again is served its last known value', async (t) => {
  const { clock, started, watches } = setup();
  const first = watches.subscribe('web:80');
  started[0]?.sink.publish('endpoints-v1');
  first.unsubscribe();
  clock.advance(5000);
  t.equal(started[0]?.closed, true, 'evicted after the idle timeout');

  const seen: string[] = [];
  const again = watches.subscribe('web:80', (v) => seen.push(v));
  t.equal(started.length, 2, 'a new watch was started');
  t.same(seen, [], 'nothing stale is served while the new watch may still answer');
  started[1]?.sink.unavailable();
  t.same(seen, ['endpoints-v1'], 'the control plane is away: the last known value is served');
  t.equal(again.current(), 'endpoints-v1');
  started[1]?.sink.unavailable();
  t.same(seen, ['endpoints-v1'], 'served once');
  started[1]?.sink.publish('endpoints-v2');
  t.same(seen, ['endpoints-v1', 'endpoints-v2'], 'the control plane answers: its value replaces the stale one');
});

t.test('no fallback without a previous value, nor once the watch has answered', async (t) => {
  const { clock, started, watches } = setup();
  const seen: string[] = [];
  watches.subscribe('new:80', (v) => seen.push(v));
  started[0]?.sink.unavailable();
  t.same(seen, [], 'a key never seen has nothing to fall back to');

  const s = watches.subscribe('web:80');
  started[1]?.sink.publish('old');
  s.unsubscribe();
  clock.advance(5000);
  const later: string[] = [];
  watches.subscribe('web:80', (v) => later.push(v));
  started[2]?.sink.publish('fresh');
  started[2]?.sink.unavailable();
  t.same(later, ['fresh'], 'a transient failure after a fresh answer keeps the fresh value');
});
