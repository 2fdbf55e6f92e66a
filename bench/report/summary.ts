// Rounds → one summary per (load, configuration): medians, CPU per unit of work, peak RSS, ratios to direct and to HAProxy.
import type { LatencyUs, LoadSpec, Sample } from '../load/loads.js';
import { max, median, ratio } from '../support/stats.js';

export const ROLES = ['outbound', 'inbound'] as const;

export interface Summary {
  readonly load: string;
  readonly config: string;
  readonly rounds: number;
  /** Median req/s or Gbit/s. */
  readonly value: number;
  readonly latencyUs: LatencyUs | undefined;
  readonly errors: number;
  /** Median CPU seconds per 10k requests (HTTP) or per GiB (TCP), both proxies together. */
  readonly cpu: number;
  /** The same, per proxy role. */
  readonly cpuByRole: Readonly<Record<string, number>>;
  /** Highest peak RSS (MiB) per proxy role over the rounds. */
  readonly peakRssMiB: Readonly<Record<string, number>>;
  readonly ratioToDirect: number;
  readonly ratioToHaproxy: number;
  readonly cpuRatioToHaproxy: number;
  /** p99 minus direct's p99 (ms). */
  readonly addedP99Ms: number;
  /** Median CPU share (1 = one core) of the fixed-rate generator (shows whether it kept up). */
  readonly generatorCpuShare: number | undefined;
  readonly samples: readonly Sample[];
}

/** CPU seconds per 10k requests, or per GiB for TCP. */
export function cpuUnit(load: LoadSpec): string {
  return load.path === 'tcp' ? 'CPU s/GiB' : 'CPU s/10k req';
}

function work(load: LoadSpec, s: Sample): number {
  return load.path === 'tcp' ? (s.bytes ?? NaN) / 2 ** 30 : (s.requests ?? NaN) / 10_000;
}

function summarizeOne(load: LoadSpec, config: string, samples: readonly Sample[]): Omit<Summary, 'ratioToDirect' | 'ratioToHaproxy' | 'cpuRatioToHaproxy' | 'addedP99Ms'> {
  const lat = samples.every((s) => s.latencyUs !== undefined)
    ? {
        p50: median(samples.map((s) => s.latencyUs!.p50)),
        p99: median(samples.map((s) => s.latencyUs!.p99)),
        p999: median(samples.map((s) => s.latencyUs!.p999)),
      }
    : undefined;
  const cpuByRole: Record<string, number> = {};
  const peakRssMiB: Record<string, number> = {};
  const roles = [...new Set(samples.flatMap((s) => s.procs.map((p) => p.role)))];
  for (const role of roles) {
    cpuByRole[role] = median(samples.map((s) => (s.procs.find((p) => p.role === role)?.cpuSeconds ?? NaN) / work(load, s)));
    peakRssMiB[role] = max(samples.map((s) => (s.procs.find((p) => p.role === role)?.peakRssBytes ?? 0) / 1048576));
  }
  const gen = samples.map((s) => s.generatorCpuShare).filter((x): x is number => x !== undefined);
  return {
    load: load.name,
    config,
    rounds: samples.length,
    value: median(samples.map((s) => s.value)),
    latencyUs: lat,
    errors: samples.reduce((n, s) => n + s.errors, 0),
    cpu: roles.length === 0 ? NaN : median(samples.map((s) => s.procs.reduce((n, p) => n + p.cpuSeconds, 0) / work(load, s))),
    cpuByRole,
    peakRssMiB,
    generatorCpuShare: gen.length === 0 ? undefined : median(gen),
    samples,
  };
}

/** results[load][config] = samples, in the order configs ran. */
export function summarize(loads: readonly LoadSpec[], results: ReadonlyMap<string, ReadonlyMap<string, readonly Sample[]>>): Summary[] {
  const out: Summary[] = [];
  for (const load of loads) {
    const byConfig = results.get(load.name);
    if (byConfig === undefined) continue;
    const partial = [...byConfig].filter(([, s]) => s.length > 0).map(([config, samples]) => summarizeOne(load, config, samples));
    const direct = partial.find((p) => p.config === 'direct');
    const ha = partial.find((p) => p.config === 'haproxy');
    for (const p of partial) {
      out.push({
        ...p,
        ratioToDirect: ratio(p.value, direct?.value ?? NaN),
        ratioToHaproxy: ratio(p.value, ha?.value ?? NaN),
        cpuRatioToHaproxy: ratio(p.cpu, ha?.cpu ?? NaN),
        addedP99Ms: p.latencyUs !== undefined && direct?.latencyUs !== undefined ? (p.latencyUs.p99 - direct.latencyUs.p99) / 1000 : NaN,
      });
    }
  }
  return out;
}
