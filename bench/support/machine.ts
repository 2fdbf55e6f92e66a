// What the numbers were measured on: CPU, cores, kernel, Node, commit, date.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly kernel: string;
  readonly memTotalMiB: number;
  readonly os: string;
  readonly node: string;
  /** 1-minute load average when the report was written: how busy the (shared) machine was. */
  readonly loadAvg1: number;
}

export function machine(): Machine {
  let osName = os.type();
  try {
    osName = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    // no os-release
  }
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    kernel: os.release(),
    memTotalMiB: Math.round(os.totalmem() / 1048576),
    os: osName,
    node: process.version,
    loadAvg1: Number(os.loadavg()[0]!.toFixed(2)),
  };
}

export interface Revision {
  readonly commit: string;
  /** Uncommitted changes were present in the tree. */
  readonly dirty: boolean;
}

export function revision(root: string): Revision {
  try {
    const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return { commit, dirty: status !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/** Versions of the external tools, for the record (some print them on stderr, some exit non-zero). */
export function toolVersion(cmd: string, args: readonly string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  const line = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).find((l) => /\d+\.\d+/.test(l));
  return line;
}
