// The balancer's pick: power of two choices over peak-EWMA endpoints.
import { P2c, PeakEwma, DEFAULT_PEAK_EWMA } from '../../src/balance/index.js';
import type { MicroCase } from './harness.js';

export function p2cCases(): MicroCase[] {
  let now = 0;
  const clock = { monotonic: () => now };
  const make = (n: number): P2c<PeakEwma> => {
    const p = new P2c<PeakEwma>((e, t) => e.cost(t));
    for (let i = 0; i < n; i++) {
      const e = new PeakEwma(DEFAULT_PEAK_EWMA, clock);
      // Give each endpoint a different RTT history so costs differ.
      e.start(0).complete(1 + i * 3);
      p.add(e);
    }
    return p;
  };
  const ten = make(10);
  const hundred = make(100);
  return [
    { name: 'p2c/pick of 10 peak-EWMA endpoints', fn: () => ten.pick((now += 0.01)) },
    { name: 'p2c/pick of 100 peak-EWMA endpoints', fn: () => hundred.pick((now += 0.01)) },
    {
      name: 'p2c/pick + start + complete (one request) of 10',
      fn: () => {
        now += 0.01;
        const e = ten.pick(now)!;
        const f = e.start(now);
        now += 0.5;
        f.complete(now);
        return e;
      },
    },
  ];
}
