import t from 'tap';
import { ExpBackoff } from '../../../src/core/backoff.js';

t.test('doubles from min and caps at max, without jitter', async (t) => {
  const b = new ExpBackoff({ minMs: 100, maxMs: 1000, jitter: 0 });
  t.same([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000]);
  b.reset();
  t.equal(b.next(), 100, 'reset starts over');
});

t.test('jitter adds up to jitter × base, still capped', async (t) => {
  const b = new ExpBackoff({ minMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1);
  t.same([b.next(), b.next(), b.next(), b.next()], [150, 300, 600, 1000]);
  const low = new ExpBackoff({ minMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0);
  t.equal(low.next(), 100);
});
