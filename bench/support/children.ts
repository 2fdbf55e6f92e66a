// Every process the bench starts, in a process group of its own, stopped on exit, Ctrl-C, SIGTERM or a crash.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { once } from 'node:events';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Collected stdout+stderr tail, for error messages. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  readonly running: boolean;
}

const children = new Set<Child>();
const scratchDirs = new Set<string>();
let handlersInstalled = false;
const TAIL = 8192;

/** Spawns cmd detached (so it leads its own process group, which is what we kill) and tracks it. */
export function startChild(name: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): Child {
  installHandlers();
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts, detached: true });
  let tail = '';
  const keep = (d: Buffer): void => {
    tail = (tail + d.toString('utf8')).slice(-TAIL);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? signal ?? 'unknown');
    });
    proc.once('error', (err) => {
      running = false;
      tail += `\nspawn error: ${err.message}`;
      resolve('spawn-error');
    });
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  const child: Child = {
    name,
    proc,
    pid: proc.pid,
    output: () => tail,
    exited,
    get running() {
      return running;
    },
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM to the child's group, SIGKILL after graceMs if still there. */
export async function stopChild(child: Child, graceMs = 3000): Promise<void> {
  if (!child.running) return;
  signalGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
  // Anything the leader left behind in its group goes too.
  signalGroup(child.pid, 'SIGKILL');
}

export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, graceMs)));
}

/** A folder removed when the bench exits, however it exits. */
export function scratchDir(dir: string): string {
  installHandlers();
  scratchDirs.add(dir);
  return dir;
}

/** Runs a short command to completion; rejects with its output on a non-zero exit. */
export async function runToEnd(name: string, cmd: string, args: readonly string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  installHandlers();
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts, detached: true });
  const tracked: Child = {
    name,
    proc,
    pid: proc.pid ?? -1,
    output: () => stderr,
    exited: Promise.resolve(0),
    get running() {
      return proc.exitCode === null && proc.signalCode === null;
    },
  };
  if (proc.pid !== undefined) children.add(tracked);
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => signalGroup(proc.pid ?? -1, 'SIGKILL'), opts.timeoutMs);
  try {
    const [code, signal] = (await Promise.race([once(proc, 'exit'), once(proc, 'error').then(([e]) => { throw e; })])) as [number | null, string | null];
    if (code !== 0) throw new Error(`${name} failed (${code ?? signal}): ${stderr.trim().slice(-2000) || stdout.trim().slice(-2000)}`);
    return { stdout, stderr };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    children.delete(tracked);
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

function killEverythingNow(): void {
  for (const c of children) signalGroup(c.pid, 'SIGKILL');
  children.clear();
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
  scratchDirs.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killEverythingNow);
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\n${sig}: stopping ${children.size} process(es)\n`);
    // A second signal while we wait for graceful stops skips the wait.
    process.once(sig, () => process.exit(130));
    void stopAll(1000).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  const onCrash = (err: unknown): void => {
    process.stderr.write(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killEverythingNow();
    process.exit(1);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
}
