// Local rate limiting with a manual clock: burst, refill, per-identity buckets, overrides, and the check order.
import t from 'tap';
import type { Clock } from '../../../../src/core/clock.js';
import { createRateLimiter, type LocalRateLimit } from '../../../../src/policy/inbound/index.js';

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1000;
  return {
    now: () => now,
    monotonic: () => now,
    setTimer: () => () => undefined,
    sleep: () => Promise.resolve(),
    advance: (ms) => {
      now += ms;
    },
  };
}

function limit(over: Partial<LocalRateLimit>): LocalRateLimit {
  return { meta: undefined, totalRps: undefined, identityRps: undefined, overrides: [], ...over };
}

function take(l: ReturnType<typeof createRateLimiter>, id: string | undefined, n: number): boolean[] {
  return Array.from({ length: n }, () => !l.check(id).limited);
}

t.test('no limit never limits', async (t) => {
  const clock = manualClock();
  t.same(take(createRateLimiter(undefined, clock), undefined, 1000).every(Boolean), true);
  t.same(take(createRateLimiter(limit({}), clock), 'a', 1000).every(Boolean), true);
});

t.test('total: a burst of rps, then one per 1/rps', async (t) => {
  const clock = manualClock();
  const l = createRateLimiter(limit({ totalRps: 4 }), clock);
  t.same(take(l, undefined, 5), [true, true, true, true, false]);
  t.same(l.check('x'), { limited: true, scope: 'total', rps: 4, message: 'total rate limit exceeded: 4rps' }, 'shared by all clients');
  clock.advance(249);
  t.equal(l.check(undefined).limited, true, 'not yet refilled');
  clock.advance(1);
  t.same(take(l, undefined, 2), [true, false], 'one per 250ms');
  clock.advance(1000);
  t.same(take(l, undefined, 5), [true, true, true, true, false], 'a full burst after a second idle');
  clock.advance(10_000);
  t.same(take(l, undefined, 5), [true, true, true, true, false], 'idle time does not bank more than a burst');
});

t.test('per identity, with anonymous clients sharing one bucket', async (t) => {
  const clock = manualClock();
  const l = createRateLimiter(limit({ identityRps: 2 }), clock);
  t.same(take(l, 'a', 3), [true, true, false]);
  t.same(take(l, 'b', 3), [true, true, false], 'b has its own bucket');
  t.same(take(l, undefined, 3), [true, true, false]);
  t.same(l.check(undefined), { limited: true, scope: 'identity', rps: 2, message: 'per-identity rate limit exceeded: 2rps' });
});

t.test('overrides replace the per-identity limit; total is checked first', async (t) => {
  const clock = manualClock();
  const l = createRateLimiter(limit({ totalRps: 100, identityRps: 1, overrides: [{ rps: 3, identities: ['vip', 'vip2'] }] }), clock);
  t.same(take(l, 'vip', 2), [true, true]);
  t.same(take(l, 'vip2', 2), [true, false], 'identities of one override share its bucket');
  t.same(l.check('vip'), { limited: true, scope: 'override', rps: 3, message: 'override rate limit exceeded: 3rps' });
  t.same(take(l, 'normal', 2), [true, false]);
  const tight = createRateLimiter(limit({ totalRps: 1, overrides: [{ rps: 10, identities: ['vip'] }] }), clock);
  t.equal(tight.check('vip').limited, false);
  const second = tight.check('vip');
  t.ok(second.limited && second.scope === 'total', 'the total limit applies even to overridden identities');
});

t.test('many identities stay bounded and correct', async (t) => {
  const clock = manualClock();
  const l = createRateLimiter(limit({ identityRps: 1 }), clock);
  for (let i = 0; i < 5000; i++) l.check(`id-${i}`);
  t.equal(l.check('id-4999').limited, true, 'a recent identity is still limited');
  clock.advance(2000);
  let limitedCount = 0;
  for (let i = 5000; i < 9200; i++) if (l.check(`id-${i}`).limited) limitedCount++;
  t.equal(limitedCount, 0, 'new identities each get a fresh bucket while old ones are pruned');
  t.equal(l.check('id-10').limited, false, 'a pruned identity starts fresh, as it would have refilled anyway');
});
