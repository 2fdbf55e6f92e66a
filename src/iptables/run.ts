// Running iptables binaries: an injectable runner, shell quoting, and error classification.
import { execFile } from 'node:child_process';
import { ProxyError } from '../core/errors.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `file args…` and resolves with its exit code and output; rejects only when the
 * program cannot be started at all (then with the spawn error, code ENOENT for "not found").
 */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandResult>;

export interface ExecRunnerOptions {
  /** Prepended to every command, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
  readonly prefix?: readonly string[];
  /** Environment for the child; unset ⇒ inherited. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function execRunner(opts: ExecRunnerOptions = {}): CommandRunner {
  const prefix = opts.prefix ?? [];
  return (file, args) =>
    new Promise((resolve, reject) => {
      const [bin, ...argv] = prefix.length > 0 ? [...prefix, file, ...args] : [file, ...args];
      const execOpts = opts.env === undefined ? { encoding: 'utf8' as const } : { encoding: 'utf8' as const, env: opts.env };
      execFile(bin ?? file, argv, execOpts, (err, stdout, stderr) => {
        if (err === null) return resolve({ code: 0, stdout, stderr });
        if (typeof err.code === 'number') return resolve({ code: err.code, stdout, stderr });
        if (err.signal !== undefined && err.signal !== null) return resolve({ code: 128, stdout, stderr: `${stderr}killed by ${err.signal}` });
        reject(Object.assign(new Error(err.message), { code: err.code, cause: err }));
      });
    });
}

/** Quotes one argument for a POSIX shell (bare when it is obviously safe). */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_\-.,:/=+@%]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(shellQuote).join(' ');
}

export type IptablesAction = 'apply' | 'remove';

/** The capture rules need privileges this process lacks. */
export class NotRootError extends ProxyError {
  constructor(action: IptablesAction, detail: string) {
    super(`iptables ${action} needs root (CAP_NET_ADMIN); run as root (${detail})`, 'iptables-not-root');
  }
}

/** The iptables (or ip6tables / iptables-save) binary is not installed. */
export class IptablesMissingError extends ProxyError {
  constructor(readonly binary: string) {
    super(`${binary} not found; install the iptables package`, 'iptables-missing');
  }
}

/** An iptables command exited non-zero for another reason. */
export class IptablesCommandError extends ProxyError {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`\`${command}\` failed (exit ${exitCode}): ${stderr.trim() || 'no output'}`, 'iptables-failed');
  }
}

const PERMISSION = /permission denied|you must be root|operation not permitted/i;
/** What `ip netns exec` prints when the wrapped program is missing. */
const WRAPPED_MISSING = /^exec of "?[^"\n]+"? failed: No such file or directory/m;

/**
 * Runs one iptables-family command; returns the result for exit codes listed in `accept`
 * (0 always) and turns anything else into a typed error.
 */
export async function runIptables(
  runner: CommandRunner,
  action: IptablesAction,
  file: string,
  args: readonly string[],
  accept: readonly number[] = [],
): Promise<CommandResult> {
  let r: CommandResult;
  try {
    r = await runner(file, args);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') throw new IptablesMissingError(file);
    throw err;
  }
  if (r.code === 0 || accept.includes(r.code)) return r;
  const text = `${r.stderr}${r.stdout}`;
  if (PERMISSION.test(text)) throw new NotRootError(action, text.trim().split('\n')[0] ?? '');
  if (WRAPPED_MISSING.test(text)) throw new IptablesMissingError(file);
  throw new IptablesCommandError(formatCommand(file, args), r.code, text);
}
