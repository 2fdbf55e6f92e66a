// `linkerd2-proxy-ts iptables apply|remove|print`: the capture rules from the command line.
import { parseArgs } from 'node:util';
import { ProxyError, messageOf } from '../core/errors.js';
import { applyRules, captureLines, natTable, printRules, removeRules, type IptablesDeps } from './apply.js';
import {
  DEFAULT_INBOUND_IGNORE_PORTS,
  DEFAULT_INBOUND_PORT,
  DEFAULT_OUTBOUND_IGNORE_PORTS,
  DEFAULT_OUTBOUND_PORT,
  buildFamilyRules,
  type RuleOptions,
} from './rules.js';

export interface CliOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 64;

export const IPTABLES_USAGE = `usage: linkerd2-proxy-ts iptables <apply|remove|print> [options]

Installs the nat-table rules of Linkerd's mesh-expansion walkthrough, which send inbound TCP
to the proxy's inbound port and the machine's outbound TCP to its outbound port.

  apply    create PROXY_INIT_REDIRECT / PROXY_INIT_OUTPUT (rebuilt if present) and the
           PREROUTING / OUTPUT jumps (added if missing); needs root
  remove   delete the jumps and both chains; needs root; fine if nothing is installed
  print    print the commands apply would run on a clean table; changes nothing

options:
  --proxy-uid N               uid the proxy runs as; its traffic is not redirected
                              (required for apply and print)
  --inbound-port N            default ${DEFAULT_INBOUND_PORT}
  --outbound-port N           default ${DEFAULT_OUTBOUND_PORT}
  --inbound-ignore-ports L    comma-separated ports/ranges, default ${DEFAULT_INBOUND_IGNORE_PORTS.join(',')}
  --outbound-ignore-ports L   default ${DEFAULT_OUTBOUND_IGNORE_PORTS.join(',')}
  --ipv6                      also program ip6tables
  -h, --help                  show this help
`;

class UsageError extends Error {}

function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer ${min}-${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function portList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

type Command = 'apply' | 'remove' | 'print';

function parse(argv: readonly string[]): { help: true } | { help: false; command: Command; rules: RuleOptions } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'proxy-uid': { type: 'string' },
        'inbound-port': { type: 'string' },
        'outbound-port': { type: 'string' },
        'inbound-ignore-ports': { type: 'string' },
        'outbound-ignore-ports': { type: 'string' },
        ipv6: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(messageOf(err));
  }
  const { values: v, positionals } = parsed;
  if (v.help === true) return { help: true };
  if (positionals.length === 0) throw new UsageError('missing subcommand (apply, remove or print)');
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const command = positionals[0];
  if (command !== 'apply' && command !== 'remove' && command !== 'print') {
    throw new UsageError(`unknown subcommand ${JSON.stringify(command)} (expected apply, remove or print)`);
  }
  const proxyUid = intFlag('proxy-uid', v['proxy-uid'], 0, 4294967294);
  if (proxyUid === undefined && command !== 'remove') {
    throw new UsageError(`--proxy-uid is required for ${command} (the uid the proxy runs as, e.g. $(id -u proxy))`);
  }
  const rules: { -readonly [K in keyof RuleOptions]: RuleOptions[K] } = { proxyUid: proxyUid ?? 0 };
  const inboundPort = intFlag('inbound-port', v['inbound-port'], 1, 65535);
  const outboundPort = intFlag('outbound-port', v['outbound-port'], 1, 65535);
  const inboundIgnore = portList(v['inbound-ignore-ports']);
  const outboundIgnore = portList(v['outbound-ignore-ports']);
  if (inboundPort !== undefined) rules.inboundPort = inboundPort;
  if (outboundPort !== undefined) rules.outboundPort = outboundPort;
  if (inboundIgnore !== undefined) rules.inboundIgnorePorts = inboundIgnore;
  if (outboundIgnore !== undefined) rules.outboundIgnorePorts = outboundIgnore;
  if (v.ipv6 === true) rules.ipv6 = true;
  try {
    buildFamilyRules(rules);
  } catch (err) {
    throw new UsageError(messageOf(err));
  }
  return { help: false, command, rules };
}

/**
 * Runs the iptables subcommand; `argv` is what follows `iptables` on the command line.
 * Resolves with the exit code: 0 ok, 64 usage error, 1 failure.
 */
export async function runIptablesCli(argv: readonly string[], out: CliOutput, deps: IptablesDeps = {}): Promise<number> {
  let cmd;
  try {
    cmd = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.stderr(`iptables: ${err.message}\n\n${IPTABLES_USAGE}`);
    return EXIT_USAGE;
  }
  if (cmd.help) {
    out.stdout(IPTABLES_USAGE);
    return EXIT_OK;
  }
  const { command, rules } = cmd;
  try {
    switch (command) {
      case 'print':
        for (const line of printRules(rules)) out.stdout(`${line}\n`);
        return EXIT_OK;
      case 'apply': {
        const report = await applyRules(rules, { ...deps, onCommand: (c) => out.stdout(`+ ${c}\n`) });
        out.stdout(`capture rules applied (${report.commands.length} changes)\n`);
        for (const family of rules.ipv6 === true ? (['ipv4', 'ipv6'] as const) : (['ipv4'] as const)) {
          for (const line of captureLines(await natTable(family, deps))) out.stdout(`${family}: ${line}\n`);
        }
        return EXIT_OK;
      }
      case 'remove': {
        const opts = rules.ipv6 === true ? { ipv6: true } : {};
        const report = await removeRules(opts, { ...deps, onCommand: (c) => out.stdout(`+ ${c}\n`) });
        out.stdout(
          report.commands.length === 0 ? 'no capture rules were installed\n' : `capture rules removed (${report.commands.length} changes)\n`,
        );
        return EXIT_OK;
      }
    }
  } catch (err) {
    // Our errors already say what failed and what to do; anything else gets the subcommand.
    out.stderr(err instanceof ProxyError ? `${err.message}\n` : `iptables ${command} failed: ${messageOf(err)}\n`);
    return EXIT_FAILURE;
  }
}
