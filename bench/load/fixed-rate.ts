// Runs the fixed-rate generator in a process of its own and reads its summary.
import path from 'node:path';
import { runToEnd } from '../support/children.js';
import type { Endpoint } from '../configs/types.js';
import type { FixedRateArgs, FixedRateOutput } from './fixed-rate-child.js';

export type { FixedRateOutput };

export interface FixedRateOptions {
  readonly root: string;
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly prefix?: readonly string[];
}

/** One connection per 100 req/s (at least 8): enough that a slow response rarely leaves none idle. */
export function connectionsFor(rate: number): number {
  return Math.max(8, Math.ceil(rate / 100));
}

export async function runFixedRate(ep: Endpoint, o: FixedRateOptions): Promise<FixedRateOutput> {
  const args: FixedRateArgs = {
    host: ep.host,
    port: ep.port,
    rate: o.rate,
    durationMs: o.seconds * 1000,
    warmupMs: o.warmupSeconds * 1000,
    connections: connectionsFor(o.rate),
    connectMs: o.warmupSeconds > 0.15 ? 200 : 50,
  };
  const child = path.join(o.root, 'dist/bench/load/fixed-rate-child.js');
  const [cmd, ...rest] = [...(o.prefix ?? []), process.execPath, child, JSON.stringify(args)];
  const { stdout } = await runToEnd('fixed-rate generator', cmd, rest, { timeoutMs: (o.seconds + o.warmupSeconds + 30) * 1000 });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as FixedRateOutput;
}
