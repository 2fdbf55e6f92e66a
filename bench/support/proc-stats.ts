// CPU time and peak RSS of a process group from /proc: utime+stime deltas, VmHWM (reset per measurement where the kernel allows).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck: number | undefined;

function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

interface StatFields {
  readonly pgrp: number;
  readonly cpuTicks: number;
}

function readStat(pid: number): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
  return { pgrp: Number(rest[2]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
}

/** The pids in process group pgid (the leader included). */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (pid === pgid || readStat(pid)?.pgrp === pgid) pids.push(pid);
  }
  return pids;
}

/** CPU seconds (user + system) used so far by every process now in the group. */
export function groupCpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0;
  return ticks / ticksPerSecond();
}

function statusField(pid: number, field: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]) * 1024;
}

/** Peak resident set (VmHWM) summed over the group's processes, in bytes. */
export function groupPeakRss(pids: readonly number[]): number {
  let bytes = 0;
  for (const pid of pids) bytes += statusField(pid, 'VmHWM') ?? 0;
  return bytes;
}

/** Resets VmHWM to the current RSS (clear_refs 5); false where the kernel or permissions refuse. */
export function resetPeakRss(pids: readonly number[]): boolean {
  let ok = true;
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}

/** One proxy process (group) watched over a measurement. */
export interface Watched {
  readonly role: string;
  readonly pgid: number;
}

export interface ProcSample {
  readonly role: string;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
}

/** Starts watching: call the returned function after the load to get CPU used and peak RSS since. */
export function watch(procs: readonly Watched[]): () => ProcSample[] {
  const groups = procs.map((p) => ({ role: p.role, pids: groupPids(p.pgid) }));
  for (const g of groups) resetPeakRss(g.pids);
  const before = groups.map((g) => groupCpuSeconds(g.pids));
  return () => groups.map((g, i) => ({ role: g.role, cpuSeconds: groupCpuSeconds(g.pids) - before[i]!, peakRssBytes: groupPeakRss(g.pids) }));
}
