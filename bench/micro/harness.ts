// A small timing loop for microbenchmarks: warm up, then the median ops/s of several timed runs, printed as one JSON line.
import { performance } from 'node:perf_hooks';

export interface MicroCase {
  readonly name: string;
  /** One operation; its result is kept so the JIT cannot drop the work. */
  readonly fn: () => unknown;
}

export interface MicroResult {
  readonly bench: 'micro';
  readonly name: string;
  readonly opsPerSec: number;
  readonly nsPerOp: number;
  readonly runs: number;
  readonly runMs: number;
}

let sink: unknown;

/** Counts iterations of fn for about ms milliseconds, checking the clock every `batch` calls. */
function timed(fn: () => unknown, ms: number): number {
  let batch = 64;
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    now = performance.now();
    if (now - start < ms / 20) batch *= 2;
  }
  return ops / ((now - start) / 1000);
}

export function runCase(c: MicroCase, opts: { runs: number; runMs: number; warmupMs: number }): MicroResult {
  timed(c.fn, opts.warmupMs);
  const rates: number[] = [];
  for (let r = 0; r < opts.runs; r++) rates.push(timed(c.fn, opts.runMs));
  rates.sort((a, b) => a - b);
  const med = rates[rates.length >> 1]!;
  if (sink === Symbol.for('never')) process.stdout.write('');
  return { bench: 'micro', name: c.name, opsPerSec: Math.round(med), nsPerOp: Number((1e9 / med).toFixed(1)), runs: opts.runs, runMs: opts.runMs };
}
