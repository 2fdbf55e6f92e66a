// Network namespaces, a bridge joining them, and commands run inside them (root only): the demo's "machines".
import { execFile } from 'node:child_process';
import type { CleanupStack } from './cleanup.js';
import { spawnTracked, type DemoProcess } from './process.js';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(file: string, args: readonly string[], timeoutMs = 20_000, env?: NodeJS.ProcessEnv): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20, ...(env ? { env } : {}) }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 127;
      resolve({ code, stdout, stderr: err !== null && stderr === '' ? err.message : stderr });
    });
  });
}

/** Runs a command and throws with its stderr when it fails. */
export async function must(file: string, args: readonly string[]): Promise<string> {
  const r = await run(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Creates namespace `name` with lo up; deleting it (at cleanup) also removes its veths and iptables rules. */
export async function createNetns(cleanup: CleanupStack, name: string): Promise<string> {
  await must('ip', ['netns', 'add', name]);
  cleanup.push(`delete namespace ${name}`, () => must('ip', ['netns', 'del', name]));
  await must('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return name;
}

export interface BridgePort {
  /** Namespace of the machine end; undefined = the namespace this process runs in. */
  readonly ns: string | undefined;
  /** Interface name of the machine end (≤ 15 characters). */
  readonly ifname: string;
  /** Interface name of the bridge end, inside the hub namespace. */
  readonly hubIfname: string;
  readonly cidr: string;
}

/** A bridge `br0` inside namespace `hub`: every machine attached to it shares one layer-2 segment. */
export async function createBridge(hub: string): Promise<void> {
  await must('ip', ['netns', 'exec', hub, 'ip', 'link', 'add', 'br0', 'type', 'bridge']);
  await must('ip', ['netns', 'exec', hub, 'ip', 'link', 'set', 'br0', 'up']);
}

/**
 * Attaches a machine to the hub's bridge with a veth pair and gives it an address. An end in this
 * process's own namespace goes away with the hub (deleting one end of a veth deletes both).
 */
export async function attach(hub: string, port: BridgePort): Promise<void> {
  const target = port.ns === undefined ? [] : ['netns', port.ns];
  await must('ip', ['link', 'add', port.ifname, ...target, 'type', 'veth', 'peer', 'name', port.hubIfname, 'netns', hub]);
  await must('ip', ['netns', 'exec', hub, 'ip', 'link', 'set', port.hubIfname, 'master', 'br0']);
  await must('ip', ['netns', 'exec', hub, 'ip', 'link', 'set', port.hubIfname, 'up']);
  const inNs = (args: string[]): Promise<string> => (port.ns === undefined ? must('ip', args) : must('ip', ['netns', 'exec', port.ns, 'ip', ...args]));
  await inNs(['addr', 'add', port.cidr, 'dev', port.ifname]);
  await inNs(['link', 'set', port.ifname, 'up']);
}

/** Runs a command inside a namespace. */
export function nsRun(ns: string, file: string, args: readonly string[], timeoutMs?: number): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', ns, file, ...args], timeoutMs);
}

export type { DemoProcess as NsProcess } from './process.js';

/** Starts a long-running process inside `ns` (as `uid` if given), stopped at cleanup. */
export function nsSpawn(cleanup: CleanupStack, name: string, ns: string, argv: readonly string[], opts: { uid?: number; env?: NodeJS.ProcessEnv } = {}): DemoProcess {
  const asUid = opts.uid === undefined ? [] : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups'];
  return spawnTracked(cleanup, name, 'ip', ['netns', 'exec', ns, ...asUid, ...argv], opts.env ?? {});
}
