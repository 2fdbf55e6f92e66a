import t from 'tap';
import { systemClock } from '../../../src/core/clock.js';

t.test('setTimer fires after the delay and can be cancelled', async (t) => {
  const fired: string[] = [];
  systemClock.setTimer(20, () => fired.push('a'));
  const cancel = systemClock.setTimer(20, () => fired.push('b'));
  cancel();
  await new Promise((r) => setTimeout(r, 60));
  t.same(fired, ['a']);
});

t.test('delays beyond Node\'s 2^31-1 ms limit do not fire early', async (t) => {
  let fired = false;
  // Node would run a 30-day setTimeout after 1ms; ours must not.
  const cancel = systemClock.setTimer(30 * 24 * 3600 * 1000, () => (fired = true));
  await new Promise((r) => setTimeout(r, 50));
  cancel();
  t.equal(fired, false);
});

t.test('sleep resolves early when its signal aborts', async (t) => {
  const ac = new AbortController();
  const started = Date.now();
  const p = systemClock.sleep(10_000, ac.signal);
  setTimeout(() => ac.abort(), 20);
  await p;
  t.ok(Date.now() - started < 1000);
});
