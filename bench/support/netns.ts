// The bench's network namespace (root only): Kubernetes-like addresses on its loopback, iptables DNAT rules that
// capture each pair's traffic the way proxy-init would, and a re-run of the whole bench inside it.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

/** Set in the re-run bench: the namespace it runs in. */
export const NETNS_ENV = 'L5DTS_BENCH_NETNS';

export interface PairAddrs {
  /** Client and server workloads in bench/manifests/bench-mesh.yaml. */
  readonly clientWorkload: string;
  readonly serverWorkload: string;
  /** The server pod's IP: connections to it are captured by the pair's inbound proxy. */
  readonly serverIp: string;
  /** ClusterIPs of the HTTP (:80) and opaque TCP (:5201) Services: captured by the outbound proxy. */
  readonly serviceHttp: string;
  readonly serviceTcp: string;
  /** Loopback addresses the two proxies bind their listeners to (standard ports 4140/4143/4191). */
  readonly outboundHost: string;
  readonly inboundHost: string;
}

export const MESH = {
  /** The dev control plane listens here (not loopback, so every proxy speaks mTLS to it). */
  controlPlaneIp: '198.18.9.9',
  /** Source address of client connections. */
  clientIp: '198.18.2.2',
  servicePort: 80,
  originHttpPort: 8080,
  originTcpPort: 5201,
  outboundPort: 4140,
  inboundPort: 4143,
  adminPort: 4191,
  /**
   * Primary group the inbound proxies run as: their connections to the server pod's IP (the
   * original destination they dial, as upstream) go to the origin, not back into themselves.
   */
  inboundProxyGid: 2102,
  ours: {
    clientWorkload: 'bench/bench-client',
    serverWorkload: 'bench/bench-server',
    serverIp: '198.18.1.2',
    serviceHttp: '10.43.0.20',
    serviceTcp: '10.43.0.21',
    outboundHost: '127.0.0.10',
    inboundHost: '127.0.0.11',
  } satisfies PairAddrs,
  rust: {
    clientWorkload: 'bench/bench-client-rust',
    serverWorkload: 'bench/bench-server-rust',
    serverIp: '198.18.1.3',
    serviceHttp: '10.43.0.30',
    serviceTcp: '10.43.0.31',
    outboundHost: '127.0.0.20',
    inboundHost: '127.0.0.21',
  } satisfies PairAddrs,
} as const;

// Plain execFile, not children.ts: the outer run must not install its exit-on-signal handlers,
// or a Ctrl-C would end it before it deletes the namespace.
const execFileP = promisify(execFile);

async function run(cmd: string, args: readonly string[]): Promise<void> {
  try {
    await execFileP(cmd, [...args], { timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** Capture rules for one pair (nat OUTPUT: everything here is locally generated). */
function captureRules(p: PairAddrs): string[][] {
  const dnat = (dst: string, to: string): string[] => ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', `${dst}/32`, '-j', 'DNAT', '--to-destination', to];
  return [
    // First, the inbound proxy's own connections to its pod IP reach the origin on loopback (port
    // kept): in a pod that IP is local, and proxy-init exempts the proxy's traffic (by uid) alike.
    ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', `${p.serverIp}/32`, '-m', 'owner', '--gid-owner', String(MESH.inboundProxyGid), '-j', 'DNAT', '--to-destination', '127.0.0.1'],
    dnat(p.serviceHttp, `${p.outboundHost}:${MESH.outboundPort}`),
    dnat(p.serviceTcp, `${p.outboundHost}:${MESH.outboundPort}`),
    // Every port of the server pod, the opaque-transport port 4143 included, lands on its inbound proxy.
    dnat(p.serverIp, `${p.inboundHost}:${MESH.inboundPort}`),
  ];
}

export async function createNetns(ns: string): Promise<void> {
  await run('ip', ['netns', 'add', ns]);
  const inNs = (...args: string[]): Promise<void> => run('ip', ['-n', ns, ...args]);
  await inNs('link', 'set', 'lo', 'up');
  // Everything is local: the extra addresses live on lo (no dummy or veth devices needed).
  for (const ip of [MESH.clientIp, MESH.controlPlaneIp]) await inNs('addr', 'add', `${ip}/32`, 'dev', 'lo');
  // Service and pod addresses are routable (then rewritten by the rules below) from the client's address.
  await inNs('route', 'add', '10.43.0.0/16', 'dev', 'lo', 'src', MESH.clientIp);
  await inNs('route', 'add', '198.18.1.0/24', 'dev', 'lo', 'src', MESH.clientIp);
  for (const rule of [...captureRules(MESH.ours), ...captureRules(MESH.rust)]) await run('ip', ['netns', 'exec', ns, 'iptables', '-w', ...rule]);
}

export async function deleteNetns(ns: string): Promise<void> {
  await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
}

/**
 * Runs this bench again inside the namespace (same arguments) and resolves with its exit code.
 * The inner run leads its own process group, so a Ctrl-C reaches it once, forwarded from here;
 * it stops its own children, this one waits for it, then the caller deletes the namespace.
 */
export function rerunInNetns(ns: string, script: string, args: readonly string[]): Promise<number> {
  // `ip netns exec` execs in place: the child's pid is the inner node's.
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, ...args], { stdio: 'inherit', detached: true, env: { ...process.env, [NETNS_ENV]: ns } });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signals) process.on(sig, forward);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      for (const sig of signals) process.off(sig, forward);
      resolve(code ?? (signal === null ? 1 : 130));
    });
    child.once('error', () => resolve(1));
  });
}
