// An attempt's deadlines: each armed timeout calls its owner once with its length; clearing cancels both.
import t from 'tap';
import { AttemptTimers } from '../../../../src/outbound/h2/attempt-timers.js';
import { ManualClock } from '../../http/h1/helpers/manual-clock.js';

function setup() {
  const clock = new ManualClock();
  const fired: string[] = [];
  const timers = new AttemptTimers(clock, {
    responseTimedOut: (ms) => fired.push(`response ${ms}`),
    headTimedOut: (ms) => fired.push(`head ${ms}`),
  });
  return { clock, fired, timers };
}

t.test('both deadlines fire in time order with their lengths', async (t) => {
  const { clock, fired, timers } = setup();
  timers.arm(300, 100);
  clock.advance(99);
  t.same(fired, []);
  clock.advance(1);
  t.same(fired, ['head 100']);
  clock.advance(200);
  t.same(fired, ['head 100', 'response 300']);
});

t.test('clear cancels what is armed; nothing is armed without timeouts', async (t) => {
  const { clock, fired, timers } = setup();
  timers.arm(300, 100);
  t.equal(clock.armed, 2);
  timers.clear();
  t.equal(clock.armed, 0);
  clock.advance(1000);
  t.same(fired, []);
  timers.arm(undefined, undefined);
  t.equal(clock.armed, 0);
  timers.clear();
  timers.arm(50, undefined);
  clock.advance(50);
  t.same(fired, ['response 50'], 'the timers can be armed again for the next attempt');
});
