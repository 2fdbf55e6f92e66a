// Certificates renew halfway through their life, tell listeners, and retry a failed renewal.
import t from 'tap';
import { RotatingCertificate } from '../../../../src/devmesh/ca/rotating.js';
import { CaptureLogger } from '../../../support/capture-logger.js';
import { ManualClock } from '../../identity/helpers/manual-clock.js';

const flush = () => new Promise((r) => setImmediate(r));

t.test('renews at half-life, then again half of the new life later', async (t) => {
  const clock = new ManualClock(1_000_000);
  let n = 0;
  const mint = async () => ({ n: ++n, notAfterMs: clock.now() + 3600_000 });
  const rotating = await RotatingCertificate.start(mint, clock, new CaptureLogger(), 'test');
  t.teardown(() => rotating.stop());
  const seen: number[] = [];
  rotating.onRotate((v) => seen.push(v.n));
  t.equal(rotating.current().n, 1);
  clock.advance(1799_000);
  await flush();
  t.same(seen, [], 'not before half-life');
  clock.advance(1000);
  await flush();
  t.same(seen, [2]);
  t.equal(rotating.current().n, 2);
  clock.advance(1800_000);
  await flush();
  t.same(seen, [2, 3]);
});

t.test('a failed renewal is logged and retried; stop cancels everything', async (t) => {
  const clock = new ManualClock(0);
  const logger = new CaptureLogger();
  let fail = false;
  let n = 0;
  const rotating = await RotatingCertificate.start(async () => {
    if (fail) throw new Error('CA offline');
    return { n: ++n, notAfterMs: clock.now() + 60_000 };
  }, clock, logger, 'test');
  fail = true;
  clock.advance(30_000);
  await flush();
  t.match(logger.find('could not renew the test certificate')[0]?.fields, { error: 'CA offline' });
  t.equal(rotating.current().n, 1, 'the old certificate stays');
  fail = false;
  clock.advance(10_000);
  await flush();
  t.equal(rotating.current().n, 2, 'retried 10s later');
  rotating.stop();
  clock.advance(3600_000);
  await flush();
  t.equal(rotating.current().n, 2, 'no renewals after stop');
});
