// Throwaway network namespaces joined by veth pairs, and processes running inside them (root only).
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export const isRoot = process.getuid?.() === 0;

let counter = 0;

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(file: string, args: readonly string[], timeoutMs = 20_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 127;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function must(file: string, args: readonly string[]): Promise<string> {
  const r = await run(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A namespace `l5dts-<pid>-<n>` with lo up, deleted (with its iptables rules) at teardown. */
export async function createNetns(t: Teardown, tag = 'ns'): Promise<string> {
  const name = `l5dts-${process.pid}-${tag}${++counter}`;
  await must('ip', ['netns', 'add', name]);
  t.teardown(() => run('ip', ['netns', 'del', name]));
  await must('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return name;
}

/** Joins two namespaces with a veth pair and gives each end an address of a /24. */
export async function vethPair(a: { ns: string; addr: string }, b: { ns: string; addr: string }): Promise<void> {
  const n = ++counter;
  const ifA = `l5va${process.pid % 10000}${n}`;
  const ifB = `l5vb${process.pid % 10000}${n}`;
  await must('ip', ['link', 'add', ifA, 'netns', a.ns, 'type', 'veth', 'peer', 'name', ifB, 'netns', b.ns]);
  for (const [ns, dev, addr] of [[a.ns, ifA, a.addr], [b.ns, ifB, b.addr]] as const) {
    await must('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${addr}/24`, 'dev', dev]);
    await must('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', dev, 'up']);
  }
}

export function nsRun(ns: string, file: string, args: readonly string[], timeoutMs?: number): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', ns, file, ...args], timeoutMs);
}

/** Starts a long-running process inside a namespace (optionally as another uid); killed at teardown. */
export function nsSpawn(
  t: Teardown,
  ns: string,
  argv: readonly string[],
  opts: { uid?: number; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; output: () => string } {
  const prefix = opts.uid === undefined ? [] : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups'];
  const child = spawn('ip', ['netns', 'exec', ns, ...prefix, ...argv], {
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => out };
}

/** Polls fn until it returns true or the deadline passes. */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 10_000, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}
