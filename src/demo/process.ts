// A long-running child of the demo (a proxy, an app) whose output is kept for diagnostics and which is stopped at cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import type { CleanupStack } from './cleanup.js';

export interface DemoProcess {
  readonly child: ChildProcess;
  readonly name: string;
  /** Everything it printed so far (stdout and stderr, interleaved). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

const OUTPUT_LIMIT = 1 << 20;

/** Starts `file args` with exactly `env`; `cleanup` stops it. */
export function spawnTracked(cleanup: CleanupStack, name: string, file: string, args: readonly string[], env: NodeJS.ProcessEnv): DemoProcess {
  const child = spawn(file, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (c: Buffer): void => {
    out += c.toString();
    // Keep the tail: a long run must not grow memory without bound.
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT / 2);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      out += `\n${err.message}\n`;
      resolve(127);
    });
  });
  const stop = async (graceMs = 3000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  cleanup.push(`stop ${name}`, () => stop());
  return { child, name, output: () => out, exited, stop };
}
