// The Markdown report: one table per load, then what each configuration was and what was skipped.
import type { LoadSpec } from '../load/loads.js';
import { fmt } from '../support/stats.js';
import { cpuUnit, type Summary } from './summary.js';

export interface ConfigStatus {
  readonly name: string;
  readonly label: string;
  readonly status: 'ran' | 'skipped' | 'failed';
  readonly reason?: string;
  readonly notes: string[];
  /** Loads this configuration could not carry, with why. */
  readonly skippedLoads: { readonly load: string; readonly reason: string }[];
}

export interface ReportHeader {
  readonly date: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly machine: string;
  readonly rounds: number;
  readonly seconds: number;
  readonly origin: string;
}

const ms = (us: number | undefined): string => fmt(us === undefined ? undefined : us / 1000, 2);

function roles(rec: Readonly<Record<string, number>>, digits: number): string {
  const out = rec.outbound;
  const inb = rec.inbound;
  if (out === undefined && inb === undefined) return '–';
  return `${fmt(out, digits)} / ${fmt(inb, digits)}`;
}

function table(load: LoadSpec, rows: readonly Summary[], labels: ReadonlyMap<string, string>): string[] {
  const http = load.path === 'http';
  const head = http
    ? ['configuration', load.rate === undefined ? 'req/s' : 'achieved req/s', '× direct', '× HAProxy', 'p50 ms', 'p99 ms', 'p99.9 ms', '+p99 vs direct ms', `${cpuUnit(load)} (both)`, 'out / in', 'CPU × HAProxy', 'peak RSS MiB out / in', 'errors']
    : ['configuration', 'Gbit/s', '× direct', '× HAProxy', `${cpuUnit(load)} (both)`, 'out / in', 'CPU × HAProxy', 'peak RSS MiB out / in'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const label = labels.get(r.config) ?? r.config;
    const common = [fmt(r.cpu, 3), roles(r.cpuByRole, 3), fmt(r.cpuRatioToHaproxy), roles(r.peakRssMiB, 0)];
    const cells = http
      ? [label, fmt(r.value, 0), fmt(r.ratioToDirect), fmt(r.ratioToHaproxy), ms(r.latencyUs?.p50), ms(r.latencyUs?.p99), ms(r.latencyUs?.p999), r.config === 'direct' ? '–' : fmt(r.addedP99Ms, 2), ...common, String(r.errors)]
      : [label, fmt(r.value, 2), fmt(r.ratioToDirect), fmt(r.ratioToHaproxy), ...common];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

export function markdownReport(h: ReportHeader, loads: readonly LoadSpec[], summaries: readonly Summary[], configs: readonly ConfigStatus[]): string {
  const labels = new Map(configs.map((c) => [c.name, c.label]));
  const out: string[] = [
    `## Mesh benchmark, ${h.date.slice(0, 10)}, commit ${h.commit}${h.dirty ? ' (with uncommitted changes)' : ''}`,
    '',
    `${h.machine}. Medians of ${h.rounds} interleaved round(s), ${h.seconds} s per load; origin: ${h.origin}.`,
    'CPU is user+system time of the proxy processes (both together, then outbound / inbound); peak RSS is VmHWM per process, reset before each load.',
    '',
  ];
  for (const load of loads) {
    const rows = summaries.filter((s) => s.load === load.name);
    if (rows.length === 0) continue;
    out.push(`### ${load.name}: ${load.title}`, '', ...table(load, rows, labels), '');
    const gen = rows.find((r) => r.config === 'direct')?.generatorCpuShare;
    if (gen !== undefined) out.push(`The generator itself used ${fmt(100 * gen, 0)}% of one core against direct (it must not be the bottleneck).`, '');
  }
  out.push('### Configurations', '');
  for (const c of configs) {
    const status = c.status === 'ran' ? '' : ` — **${c.status}**: ${c.reason ?? ''}`;
    out.push(`- **${c.label}** (\`${c.name}\`)${status}`);
    for (const n of c.notes) out.push(`  - ${n}`);
    for (const s of c.skippedLoads) out.push(`  - skipped ${s.load}: ${s.reason}`);
  }
  return out.join('\n') + '\n';
}
