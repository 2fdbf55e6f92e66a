// `vm init`: the walkthrough's LINKERD2_PROXY_* variables for one ExternalWorkload, checked and written as an env file.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, ENV, loadConfig } from '../config/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import { errnoOf, messageOf } from '../core/errors.js';
import { formatEnvFile, parseEnvFile, type EnvEntry } from './env-file.js';
import { checkSpireSocket } from './spire-socket.js';
import { checkTrustAnchor } from './trust-anchor.js';

/** The walkthrough's values (Linkerd installed in namespace `linkerd`, trust domain root.linkerd.cluster.local). */
export const VM_DEFAULTS = {
  trustDomain: 'root.linkerd.cluster.local',
  destinationAddr: 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086',
  destinationName: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  policyAddr: 'linkerd-policy.linkerd.svc.cluster.local.:8090',
  policyName: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  spireSocket: 'unix:///tmp/spire-agent/public/api.sock',
  out: '/etc/linkerd2-proxy-ts/env',
  /** The Rust proxy image's uid, which the iptables rules exempt. */
  proxyUid: 2102,
} as const;

export interface VmInitOptions {
  readonly trustAnchorFile: string;
  /** The ExternalWorkload's metadata.name and metadata.namespace. */
  readonly name: string;
  readonly namespace: string;
  /** `nodeName` of the destination context (the walkthrough's "my-vm"). */
  readonly nodeName: string;
  /** meshTls.identity and meshTls.serverName of the ExternalWorkload. */
  readonly serverId: string;
  readonly serverName: string;
  readonly destinationAddr: string;
  readonly destinationName: string;
  readonly policyAddr: string;
  readonly policyName: string;
  readonly spireSocket: string;
  readonly out: string;
  readonly proxyUid: number;
  /** LINKERD2_PROXY_INBOUND_DEFAULT_POLICY, written only when given (the proxy's default is all-unauthenticated). */
  readonly defaultPolicy?: string;
  /** Replace an existing file at `out`. */
  readonly force: boolean;
}

export interface VmInitResult {
  readonly out: string;
  readonly variables: readonly string[];
  /** Non-fatal findings (SPIRE socket missing, anchor expiring soon, config notes). */
  readonly warnings: readonly string[];
  readonly nextSteps: string;
}

/** Init refused: `exitCode` 64 for bad input (flags, trust anchor, a value the proxy rejects), 1 otherwise. */
export class VmInitError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 64,
  ) {
    super(message);
    this.name = 'VmInitError';
  }
}

/** The env file's entries, in the walkthrough's groups: identity, workload, control plane, SPIRE, anchors. */
export function vmEnvEntries(o: VmInitOptions, trustAnchorsPem: string): EnvEntry[] {
  const policy: EnvEntry[] =
    o.defaultPolicy === undefined ? [] : [{ name: ENV.INBOUND_DEFAULT_POLICY, value: o.defaultPolicy, comment: 'Inbound traffic allowed on ports no Server resource covers.' }];
  return [
    { name: ENV.IDENTITY_SERVER_ID, value: o.serverId, comment: "This proxy's identity: the SPIFFE id SPIRE issues to it, and the ExternalWorkload's meshTls.identity." },
    { name: ENV.IDENTITY_SERVER_NAME, value: o.serverName, comment: "The TLS server name peers connect to: the ExternalWorkload's meshTls.serverName." },
    { name: ENV.POLICY_WORKLOAD, value: JSON.stringify({ ns: o.namespace, external_workload: o.name }), comment: 'The ExternalWorkload whose inbound policies the policy controller sends.' },
    { name: ENV.DESTINATION_CONTEXT, value: JSON.stringify({ ns: o.namespace, nodeName: o.nodeName, external_workload: o.name }), comment: 'Sent with every destination lookup.' },
    { name: ENV.DESTINATION_SVC_ADDR, value: o.destinationAddr, comment: 'The destination controller, and the identity it must present.' },
    { name: ENV.DESTINATION_SVC_NAME, value: o.destinationName },
    { name: ENV.POLICY_SVC_ADDR, value: o.policyAddr, comment: 'The policy controller, and the identity it must present.' },
    { name: ENV.POLICY_SVC_NAME, value: o.policyName },
    {
      name: ENV.IDENTITY_SPIRE_SOCKET,
      value: o.spireSocket,
      comment: `The SPIRE agent's Workload API socket (the walkthrough's name; ${ENV.IDENTITY_SPIRE_WORKLOAD_API_ADDRESS} is the newer one).`,
    },
    ...policy,
    { name: ENV.IDENTITY_TRUST_ANCHORS, value: trustAnchorsPem.trim() + '\n', comment: "The mesh's trust anchor (PEM), the same as the cluster's." },
  ];
}

function nextSteps(o: VmInitOptions): string {
  return `Next steps:
  1. The ExternalWorkload ${o.namespace}/${o.name} must carry
       meshTls: { identity: "${o.serverId}", serverName: "${o.serverName}" }
     and SPIRE must issue ${o.serverId} to the proxy's uid, e.g.
       spire-server entry create -parentID <agent id> -spiffeID ${o.serverId} -selector unix:uid:${o.proxyUid}
  2. Send the machine's TCP through the proxy (the systemd unit does this before each start):
       sudo linkerd2-proxy-ts iptables apply --proxy-uid ${o.proxyUid}
  3. Start it with packaging/linkerd2-proxy-ts.service in /etc/systemd/system/:
       sudo systemctl daemon-reload && sudo systemctl enable --now linkerd2-proxy-ts
  4. Check it: curl -s http://127.0.0.1:4191/ready; journalctl -u linkerd2-proxy-ts
`;
}

function readTrustAnchor(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new VmInitError(`cannot read the trust anchor ${file}: ${errnoOf(err) ?? messageOf(err)}`, 64);
  }
}

/** Writes `text` to `file` with mode 0640 exactly (whatever the umask). */
function writePrivate(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o640 });
  chmodSync(file, 0o640);
}

/**
 * Checks the trust anchor and SPIRE socket, writes the env file, reads the written file back
 * and loads it as the proxy would (loadConfig), and only then moves it into place; a value the
 * proxy would reject is reported with its variable and nothing is written.
 */
export function vmInit(o: VmInitOptions, clock: Pick<Clock, 'now'> = systemClock): VmInitResult {
  const pem = readTrustAnchor(o.trustAnchorFile);
  const anchor = checkTrustAnchor(pem, clock.now());
  if (!anchor.ok) throw new VmInitError(`trust anchor ${o.trustAnchorFile}:\n  ${anchor.problems.join('\n  ')}`, 64);
  const warnings = [...anchor.warnings];
  const socket = checkSpireSocket(o.spireSocket);
  if (socket.warning !== undefined) warnings.push(`SPIRE socket: ${socket.warning}`);

  const out = path.resolve(o.out);
  if (existsSync(out) && !o.force) throw new VmInitError(`${out} exists; pass --force to replace it`, 1);
  const entries = vmEnvEntries(o, anchor.pem);
  const text = formatEnvFile(
    entries,
    `linkerd2-proxy-ts environment for ExternalWorkload ${o.namespace}/${o.name}, written by \`linkerd2-proxy-ts vm init\`.\nRead by systemd (EnvironmentFile=); every LINKERD2_PROXY_* variable is described in docs/config.md.`,
  );

  const partial = `${out}.partial-${process.pid}`;
  try {
    mkdirSync(path.dirname(out), { recursive: true, mode: 0o755 });
    writePrivate(partial, text);
    const env = parseEnvFile(readFileSync(partial, 'utf8'));
    for (const e of entries) {
      if (env[e.name] !== e.value) throw new VmInitError(`internal error: ${e.name} does not read back as written`, 1);
    }
    let loaded;
    try {
      loaded = loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) throw new VmInitError(`the proxy would not start with these values:\n${err.message}`, 64);
      throw err;
    }
    // The walkthrough's SPIRE variable is written on purpose; its deprecation note would only confuse.
    warnings.push(...loaded.warnings.filter((w) => !w.startsWith(ENV.IDENTITY_SPIRE_SOCKET)));
    renameSync(partial, out);
  } catch (err) {
    if (err instanceof VmInitError) throw err;
    throw new VmInitError(`cannot write ${out}: ${errnoOf(err) ?? messageOf(err)}`, 1);
  } finally {
    rmSync(partial, { force: true });
  }
  return { out, variables: entries.map((e) => e.name), warnings, nextSteps: nextSteps(o) };
}
