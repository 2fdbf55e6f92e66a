import t from 'tap';
import { BoundedCache } from '../../../src/core/bounded-cache.js';

t.test('makes a value once per key and forgets the oldest past the limit', async (t) => {
  const cache = new BoundedCache<string, number>(2);
  let made = 0;
  const make = () => ++made;
  t.equal(cache.get('a', make), 1);
  t.equal(cache.get('a', make), 1, 'cached');
  t.equal(cache.get('b', make), 2);
  t.equal(cache.get('c', make), 3, 'evicts a');
  t.equal(cache.size, 2);
  t.equal(cache.get('a', make), 4, 'a was forgotten and made again');
});
