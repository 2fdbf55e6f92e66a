import t from 'tap';
import { DEFAULT_PEAK_EWMA, PeakEwma } from '../../../src/balance/peak-ewma.js';
import { ManualClock } from './helpers.js';

t.test('before any sample the estimate is the default RTT (30ms by default)', async (t) => {
  const clock = new ManualClock();
  t.same(DEFAULT_PEAK_EWMA, { defaultRttMs: 30, decayMs: 10_000 });
  const ewma = new PeakEwma(DEFAULT_PEAK_EWMA, clock);
  t.equal(ewma.rttEstimate(), 30);
  t.equal(ewma.cost(), 30, 'idle: cost = rtt × 1');
  ewma.start();
  ewma.start();
  t.equal(ewma.pending, 2);
  t.equal(ewma.cost(), 90, 'cost = rtt × (pending + 1)');
});

t.test('the default RTT decays while idle, so a never-used endpoint gets tried', async (t) => {
  const clock = new ManualClock();
  const ewma = new PeakEwma({ defaultRttMs: 10, decayMs: 1000 }, clock);
  clock.advance(100);
  t.equal(ewma.cost(), 10 * Math.exp(-0.1));
  clock.advance(100);
  t.ok(Math.abs(ewma.cost() - 10 * Math.exp(-0.2)) < 1e-9, 'decay compounds across reads');
});

t.test('a sample above the estimate replaces it at once (peak)', async (t) => {
  const clock = new ManualClock();
  const ewma = new PeakEwma(DEFAULT_PEAK_EWMA, clock);
  const h = ewma.start();
  clock.advance(200);
  h.complete();
  t.equal(ewma.pending, 0);
  t.equal(ewma.rttEstimate(), 200);
  t.equal(ewma.cost(), 200);
});

t.test('a lower sample is blended in by the time since the last update', async (t) => {
  const clock = new ManualClock();
  const ewma = new PeakEwma({ defaultRttMs: 30, decayMs: 1000 }, clock);
  const slow = ewma.start();
  clock.advance(500);
  slow.complete(); // estimate 500 at t=500
  clock.advance(450);
  const fast = ewma.start();
  clock.advance(50);
  fast.complete(); // sample 50 at t=1000, 500ms after the last update
  const keep = Math.exp(-500 / 1000);
  t.ok(Math.abs(ewma.rttEstimate() - (500 * keep + 50 * (1 - keep))) < 1e-9);
});

t.test('after a long idle period the estimate decays towards zero', async (t) => {
  const clock = new ManualClock();
  const ewma = new PeakEwma(DEFAULT_PEAK_EWMA, clock);
  const h = ewma.start();
  clock.advance(1000);
  h.complete();
  t.equal(ewma.rttEstimate(), 1000);
  clock.advance(10_000);
  t.ok(Math.abs(ewma.rttEstimate() - 1000 * Math.exp(-1)) < 1e-9, 'one decay period: ×1/e');
  clock.advance(100_000);
  t.ok(ewma.rttEstimate() < 0.1);
});

t.test('matches tower PeakEwma step by step (compound decay)', async (t) => {
  const clock = new ManualClock();
  const ewma = new PeakEwma({ defaultRttMs: 20, decayMs: 1000 }, clock);
  t.equal(ewma.cost(), 20);
  clock.advance(100);
  const rsp0 = ewma.start();
  t.ok(ewma.cost() > 20);
  clock.advance(100);
  const rsp1 = ewma.start();
  t.ok(ewma.cost() > 40);
  clock.advance(100);
  rsp0.complete();
  t.equal(ewma.cost(), 400, '200ms peak × (1 pending + 1)');
  clock.advance(100);
  rsp1.complete();
  t.equal(ewma.cost(), 200);
  clock.advance(1000);
  t.ok(ewma.cost() < 100);
  clock.advance(10_000);
  t.ok(ewma.cost() < 0.1);
});

t.test('complete is idempotent and an explicit time may be passed', async (t) => {
  const clock = new ManualClock();
  const ewma = new PeakEwma(DEFAULT_PEAK_EWMA, clock);
  const a = ewma.start(0);
  const b = ewma.start(0);
  a.complete(120);
  t.equal(a.completed, true);
  a.complete(5000);
  t.equal(ewma.pending, 1, 'second complete of the same handle does nothing');
  t.equal(ewma.rttEstimate(120), 120);
  b.complete(120);
  t.equal(ewma.pending, 0);
});

t.test('rejects a non-positive decay', async (t) => {
  const clock = new ManualClock();
  t.throws(() => new PeakEwma({ defaultRttMs: 30, decayMs: 0 }, clock), RangeError);
  t.throws(() => new PeakEwma({ defaultRttMs: -1, decayMs: 10 }, clock), RangeError);
});
