// The `vm` subcommand of the CLI: `vm init` writes the proxy's env file for an ExternalWorkload.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { isValidDnsName } from '../config/index.js';
import { messageOf } from '../core/errors.js';
import { VM_DEFAULTS, VmInitError, vmInit, type VmInitOptions } from './init.js';

export const EXIT_USAGE = 64;

export interface VmCliOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const VM_USAGE = `usage: linkerd2-proxy-ts vm init --trust-anchor FILE --name NAME --namespace NS [options]

Writes the environment file that runs this proxy for one ExternalWorkload, as in Linkerd's
"Adding non-Kubernetes workloads" walkthrough: checks the trust anchor and the SPIRE agent's
socket, validates every value as the proxy will, then prints the iptables and systemd steps.

required:
  --trust-anchor FILE       the mesh's trust anchor (PEM; only its certificates are copied)
  --name NAME               the ExternalWorkload's name
  --namespace NS            the ExternalWorkload's namespace

options:
  --node-name NAME          nodeName in the destination context (default: this host's name)
  --trust-domain DOMAIN     SPIFFE trust domain for the default identity (default ${VM_DEFAULTS.trustDomain})
  --server-id ID            the proxy's identity, meshTls.identity (default spiffe://DOMAIN/NAME)
  --server-name NAME        its TLS server name, meshTls.serverName (default NAME.cluster.local)
  --destination-addr ADDR   default ${VM_DEFAULTS.destinationAddr}
  --destination-name NAME   default ${VM_DEFAULTS.destinationName}
  --policy-addr ADDR        default ${VM_DEFAULTS.policyAddr}
  --policy-name NAME        default ${VM_DEFAULTS.policyName}
  --spire-socket ADDR       default ${VM_DEFAULTS.spireSocket}
  --default-policy POLICY   write LINKERD2_PROXY_INBOUND_DEFAULT_POLICY (deny, all-authenticated,
                            all-unauthenticated, audit, ...; unset: the proxy uses all-unauthenticated)
  --proxy-uid N             uid the proxy runs as, for the printed steps (default ${VM_DEFAULTS.proxyUid})
  --out FILE                default ${VM_DEFAULTS.out} (written with mode 0640)
  --force                   replace an existing FILE
  -h, --help                this text
`;

class UsageError extends Error {}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A Kubernetes object name (RFC 1123 subdomain) or namespace (RFC 1123 label). */
function k8sName(flag: string, value: string | undefined, kind: 'subdomain' | 'label'): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  const ok = kind === 'label' ? value.length <= 63 && DNS_LABEL.test(value) : value.length <= 253 && value.split('.').every((l) => DNS_LABEL.test(l));
  if (!ok) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a Kubernetes ${kind === 'label' ? 'namespace' : 'name'} (lower-case letters, digits and '-'${kind === 'label' ? '' : ", '.' between parts"})`);
  }
  return value;
}

function parse(argv: readonly string[], host: string): { help: true } | { help: false; options: VmInitOptions } {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing subcommand (init)');
  if (command === '--help' || command === '-h' || command === 'help') return { help: true };
  if (command !== 'init') throw new UsageError(`unknown vm subcommand ${JSON.stringify(command)} (expected init)`);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      allowPositionals: false,
      strict: true,
      options: {
        'trust-anchor': { type: 'string' },
        name: { type: 'string' },
        namespace: { type: 'string' },
        'node-name': { type: 'string' },
        'trust-domain': { type: 'string' },
        'server-id': { type: 'string' },
        'server-name': { type: 'string' },
        'destination-addr': { type: 'string' },
        'destination-name': { type: 'string' },
        'policy-addr': { type: 'string' },
        'policy-name': { type: 'string' },
        'spire-socket': { type: 'string' },
        'default-policy': { type: 'string' },
        'proxy-uid': { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(messageOf(err));
  }
  const v = parsed.values;
  if (v.help === true) return { help: true };
  const trustAnchorFile = v['trust-anchor'];
  if (trustAnchorFile === undefined || trustAnchorFile === '') throw new UsageError('--trust-anchor FILE is required (the PEM of the mesh trust anchor, e.g. ca.crt)');
  const name = k8sName('name', v.name, 'subdomain');
  const namespace = k8sName('namespace', v.namespace, 'label');
  const trustDomain = v['trust-domain'] ?? VM_DEFAULTS.trustDomain;
  if (!isValidDnsName(trustDomain)) throw new UsageError(`--trust-domain ${JSON.stringify(trustDomain)} is not a DNS name`);
  const uidText = v['proxy-uid'] ?? String(VM_DEFAULTS.proxyUid);
  if (!/^\d+$/.test(uidText) || Number(uidText) > 4294967294) throw new UsageError(`--proxy-uid must be a uid (0-4294967294), got ${JSON.stringify(uidText)}`);
  const nodeName = v['node-name'] ?? host;
  if (nodeName === '') throw new UsageError('--node-name must not be empty');
  return {
    help: false,
    options: {
      trustAnchorFile,
      name,
      namespace,
      nodeName,
      serverId: v['server-id'] ?? `spiffe://${trustDomain}/${name}`,
      serverName: v['server-name'] ?? `${name}.cluster.local`,
      destinationAddr: v['destination-addr'] ?? VM_DEFAULTS.destinationAddr,
      destinationName: v['destination-name'] ?? VM_DEFAULTS.destinationName,
      policyAddr: v['policy-addr'] ?? VM_DEFAULTS.policyAddr,
      policyName: v['policy-name'] ?? VM_DEFAULTS.policyName,
      spireSocket: v['spire-socket'] ?? VM_DEFAULTS.spireSocket,
      out: v.out ?? VM_DEFAULTS.out,
      proxyUid: Number(uidText),
      force: v.force === true,
      ...(v['default-policy'] === undefined ? {} : { defaultPolicy: v['default-policy'] }),
    },
  };
}

/** `argv` is what follows `vm`; resolves to the exit status (0, 1 failure, 64 usage). */
export function runVmCli(argv: readonly string[], out: VmCliOutput, host: string = hostname()): number {
  let cmd;
  try {
    cmd = parse(argv, host);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    out.stderr(`vm: ${err.message}\n\n${VM_USAGE}`);
    return EXIT_USAGE;
  }
  if (cmd.help) {
    out.stdout(VM_USAGE);
    return 0;
  }
  try {
    const result = vmInit(cmd.options);
    for (const w of result.warnings) out.stderr(`warning: ${w}\n`);
    out.stdout(`wrote ${result.out} (${result.variables.length} variables, mode 0640)\n\n${result.nextSteps}`);
    return 0;
  } catch (err) {
    if (!(err instanceof VmInitError)) throw err;
    out.stderr(`vm init: ${err.message}\n`);
    return err.exitCode;
  }
}
