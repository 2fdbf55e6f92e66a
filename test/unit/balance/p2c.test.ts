import t from 'tap';
import { P2c } from '../../../src/balance/p2c.js';
import { seeded } from './helpers.js';

interface Item {
  readonly name: string;
  load: number;
}

const item = (name: string, load = 1): Item => ({ name, load });
const byLoad = (i: Item): number => i.load;

t.test('no items ⇒ none; one item ⇒ that item', async (t) => {
  const p = new P2c<Item>(byLoad, seeded(1));
  t.equal(p.pick(0), undefined);
  const a = item('a');
  p.add(a);
  t.equal(p.pick(0), a);
});

t.test('always takes the lower-load of the two sampled items', async (t) => {
  const p = new P2c<Item>(byLoad, seeded(2));
  const light = item('light', 1);
  const heavy = item('heavy', 2);
  p.add(heavy);
  p.add(light);
  for (let i = 0; i < 1000; i++) t.equal(p.pick(0), light);
});

t.test('the two samples are distinct', async (t) => {
  // A generator that always returns 0 would sample slot 0 twice without the shift.
  const p = new P2c<Item>(byLoad, () => 0);
  const first = item('first', 5);
  const second = item('second', 1);
  p.add(first);
  p.add(second);
  t.equal(p.pick(0), second);
  const one = new P2c<Item>(byLoad, () => 0.9999999999);
  one.add(first);
  one.add(second);
  t.equal(one.pick(0), second, 'and a generator near 1 stays in range');
  const bad = new P2c<Item>(byLoad, () => 1);
  bad.add(first);
  bad.add(second);
  t.ok(bad.pick(0) !== undefined, 'a generator returning 1 is clamped');
});

t.test('the lowest-load item wins exactly when it is sampled (2 of 5 ⇒ 40%)', async (t) => {
  const p = new P2c<Item>(byLoad, seeded(3));
  const best = item('best', 0);
  p.add(best);
  for (let i = 0; i < 4; i++) p.add(item(`other${i}`, 1 + i));
  let wins = 0;
  const n = 10_000;
  for (let i = 0; i < n; i++) if (p.pick(0) === best) wins++;
  t.ok(Math.abs(wins / n - 0.4) < 0.02, `best won ${wins}/${n}`);
});

t.test('spreads evenly among equal loads', async (t) => {
  const p = new P2c<Item>(byLoad, seeded(4));
  const items = ['a', 'b', 'c', 'd'].map((n) => item(n, 7));
  for (const i of items) p.add(i);
  const counts = new Map<Item, number>();
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const got = p.pick(0) as Item;
    counts.set(got, (counts.get(got) ?? 0) + 1);
  }
  let chi2 = 0;
  const expected = n / items.length;
  for (const i of items) chi2 += ((counts.get(i) ?? 0) - expected) ** 2 / expected;
  // 3 degrees of freedom: p = 0.001 at 16.27.
  t.ok(chi2 < 16.27, `chi² = ${chi2.toFixed(2)} counts=${[...counts.values()].join(',')}`);
});

t.test('removal swaps the last item into the hole; removed items are never picked', async (t) => {
  const p = new P2c<Item>(byLoad, seeded(5));
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => item(n));
  p.add(a!);
  p.add(b!);
  p.add(c!);
  p.add(d!);
  t.equal(p.add(a!), false, 'duplicate add is refused');
  t.equal(p.remove(a!), true);
  t.equal(p.remove(a!), false);
  t.same(p.values().map((x) => x.name), ['d', 'b', 'c']);
  t.equal(p.has(a!), false);
  t.equal(p.size, 3);
  for (let i = 0; i < 500; i++) t.not(p.pick(0), a);
  p.remove(c!);
  t.same(p.values().map((x) => x.name), ['d', 'b']);
  p.add(a!);
  t.same(p.values().map((x) => x.name), ['d', 'b', 'a']);
  p.clear();
  t.equal(p.pick(0), undefined);
});

t.test('passes the pick time to the load function', async (t) => {
  const seen: number[] = [];
  const p = new P2c<Item>((i, now) => {
    seen.push(now);
    return i.load;
  }, seeded(6));
  p.add(item('a'));
  p.add(item('b'));
  p.pick(1234);
  t.same(seen, [1234, 1234]);
});
