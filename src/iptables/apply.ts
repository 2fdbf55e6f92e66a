// Applying, removing and printing the capture rules, idempotently, with iptables/ip6tables.
import {
  INBOUND_CHAIN,
  JUMPS,
  OUTBOUND_CHAIN,
  buildFamilyRules,
  buildRuleCommands,
  type Family,
  type RuleOptions,
} from './rules.js';
import { execRunner, formatCommand, runIptables, type CommandRunner, type IptablesAction } from './run.js';

export interface IptablesDeps {
  /** How commands are run; tests prefix `ip netns exec <ns>`. Default: execFile. */
  readonly runner?: CommandRunner;
  /** Receives each state-changing command as it runs (shell-quoted). */
  readonly onCommand?: (command: string) => void;
}

export interface IptablesReport {
  /** The state-changing commands that ran, shell-quoted, in order. */
  readonly commands: readonly string[];
}

const BINARIES: Record<Family, { readonly iptables: string; readonly save: string }> = {
  ipv4: { iptables: 'iptables', save: 'iptables-save' },
  ipv6: { iptables: 'ip6tables', save: 'ip6tables-save' },
};

const OUR_CHAINS = [INBOUND_CHAIN, OUTBOUND_CHAIN] as const;
/** Guards the duplicate-jump loop against an iptables that reports success forever. */
const MAX_DUPLICATE_JUMPS = 64;

function familiesOf(opts: { readonly ipv6?: boolean }): Family[] {
  return opts.ipv6 === true ? ['ipv4', 'ipv6'] : ['ipv4'];
}

/** Lines of `iptables-save -t nat` output that belong to the capture rules. */
export function captureLines(save: string): string[] {
  return save.split('\n').filter((l) => OUR_CHAINS.some((c) => l.includes(c)));
}

/** The chains of ours that already exist, from `iptables-save -t nat`. */
function existingChains(save: string): Set<string> {
  const found = new Set<string>();
  for (const line of save.split('\n')) {
    for (const c of OUR_CHAINS) if (line.startsWith(`:${c} `)) found.add(c);
  }
  return found;
}

class Session {
  readonly commands: string[] = [];
  constructor(
    private readonly runner: CommandRunner,
    private readonly action: IptablesAction,
    private readonly family: Family,
    private readonly deps: IptablesDeps,
  ) {}

  async natTable(): Promise<string> {
    const { save } = BINARIES[this.family];
    return (await runIptables(this.runner, this.action, save, ['-t', 'nat'])).stdout;
  }

  /** `-C` answers 0 when the rule exists and 1 when it does not. */
  async exists(args: readonly string[]): Promise<boolean> {
    const r = await runIptables(this.runner, this.action, BINARIES[this.family].iptables, args, [1]);
    return r.code === 0;
  }

  async change(args: readonly string[]): Promise<void> {
    const bin = BINARIES[this.family].iptables;
    const text = formatCommand(bin, args);
    this.deps.onCommand?.(text);
    await runIptables(this.runner, this.action, bin, args);
    this.commands.push(text);
  }
}

/**
 * Installs the capture rules. Our chains are created (or flushed and rebuilt if present) and
 * the PREROUTING/OUTPUT jumps are added only if missing, so applying twice leaves exactly one
 * copy. On clean tables the commands run are exactly the walkthrough's.
 */
export async function applyRules(opts: RuleOptions, deps: IptablesDeps = {}): Promise<IptablesReport> {
  const runner = deps.runner ?? execRunner();
  const rules = buildFamilyRules(opts);
  const commands: string[] = [];
  for (const family of familiesOf(opts)) {
    const s = new Session(runner, 'apply', family, deps);
    const present = existingChains(await s.natTable());
    for (const args of rules) {
      const [, , op, chain] = args;
      if (op === '-N' && chain !== undefined && present.has(chain)) {
        await s.change(['-t', 'nat', '-F', chain]);
      } else if (op === '-A' && JUMPS.some(([from, to]) => chain === from && args.at(-1) === to)) {
        if (!(await s.exists(['-t', 'nat', '-C', ...args.slice(3)]))) await s.change(args);
      } else {
        await s.change(args);
      }
    }
    commands.push(...s.commands);
  }
  return { commands };
}

/**
 * Removes every trace of the capture rules: all jumps into our chains (duplicates too), then
 * our chains. Removing rules that are absent succeeds and changes nothing.
 */
export async function removeRules(opts: { readonly ipv6?: boolean } = {}, deps: IptablesDeps = {}): Promise<IptablesReport> {
  const runner = deps.runner ?? execRunner();
  const commands: string[] = [];
  for (const family of familiesOf(opts)) {
    const s = new Session(runner, 'remove', family, deps);
    const present = existingChains(await s.natTable());
    for (const [from, to] of JUMPS) {
      if (!present.has(to)) continue;
      const jump = [from, '-j', to];
      for (let i = 0; i < MAX_DUPLICATE_JUMPS && (await s.exists(['-t', 'nat', '-C', ...jump])); i++) {
        await s.change(['-t', 'nat', '-D', ...jump]);
      }
    }
    for (const chain of OUR_CHAINS) {
      if (!present.has(chain)) continue;
      await s.change(['-t', 'nat', '-F', chain]);
      await s.change(['-t', 'nat', '-X', chain]);
    }
    commands.push(...s.commands);
  }
  return { commands };
}

/** The commands `apply` runs on clean tables, shell-quoted; nothing is executed. */
export function printRules(opts: RuleOptions): string[] {
  return buildRuleCommands(opts).map(({ family, args }) => formatCommand(BINARIES[family].iptables, args));
}

/** Current nat table as iptables-save prints it (e.g. to show the result after apply). */
export async function natTable(family: Family, deps: IptablesDeps = {}): Promise<string> {
  return new Session(deps.runner ?? execRunner(), 'apply', family, deps).natTable();
}
