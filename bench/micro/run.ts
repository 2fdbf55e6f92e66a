// `npm run bench -- --micro`: every microbenchmark in bench/micro, one JSON line each (ops/s, ns/op).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientHelloCases } from './client-hello.js';
import { detectCases } from './detect.js';
import { runCase, type MicroCase } from './harness.js';
import { metricsCases } from './metrics.js';
import { p2cCases } from './p2c.js';
import { routeCases } from './routes.js';
import { transportHeaderCases } from './transport-header.js';

/** Runs every case, printing a JSON line each; with `saveTo`, also writes the lines to that file. */
export async function runMicro(quick: boolean, saveTo?: string): Promise<void> {
  const cases: MicroCase[] = [
    ...detectCases(),
    ...(await clientHelloCases()),
    ...transportHeaderCases(),
    ...routeCases(),
    ...p2cCases(),
    ...metricsCases(),
  ];
  const opts = quick ? { runs: 3, runMs: 100, warmupMs: 50 } : { runs: 5, runMs: 300, warmupMs: 200 };
  const lines: string[] = [];
  // The load average travels with each line: on a shared machine it says how much to trust it.
  for (const c of cases) {
    const line = JSON.stringify({ ...runCase(c, opts), node: process.version, loadAvg1: Number(os.loadavg()[0]!.toFixed(2)) });
    lines.push(line);
    process.stdout.write(line + '\n');
  }
  if (saveTo !== undefined) {
    mkdirSync(path.dirname(saveTo), { recursive: true });
    writeFileSync(saveTo, lines.join('\n') + '\n');
    process.stderr.write(`results: ${saveTo}\n`);
  }
}
