// A proxy pair driven by the dev control plane, as a user runs it: the real binary, the LINKERD2_PROXY_* variables the
// dev control plane prints for each workload, Linkerd identity (Certify), and original destinations from iptables (SO_ORIGINAL_DST).
import path from 'node:path';
import { startChild, stopChild, type Child } from '../support/children.js';
import { MESH, type PairAddrs } from '../support/netns.js';
import { waitForHttp200 } from '../support/net.js';
import { inboundSawTls, nodeFlags } from './proxy-common.js';
import type { BenchContext, RunningConfig } from './types.js';

export type PairKind = { readonly kind: 'ours' } | { readonly kind: 'rust'; readonly binary: string };

function listenEnv(host: string): Record<string, string> {
  return {
    LINKERD2_PROXY_INBOUND_LISTEN_ADDR: `${host}:${MESH.inboundPort}`,
    LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: `${host}:${MESH.outboundPort}`,
    LINKERD2_PROXY_ADMIN_LISTEN_ADDR: `${host}:${MESH.adminPort}`,
    LINKERD2_PROXY_CONTROL_LISTEN_ADDR: `${host}:4190`,
    // Quiet logs for both proxies: logging is not what is measured.
    LINKERD2_PROXY_LOG: 'warn',
    LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '1s',
    // The Rust proxy's runtime gets one core, as our single event loop has (the injector's proxy-cpu-limit: 1).
    LINKERD2_PROXY_CORES: '1',
  };
}

function startOne(ctx: BenchContext, kind: PairKind, role: 'outbound' | 'inbound', env: Record<string, string>): Child {
  const childEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env };
  const name = `${kind.kind === 'ours' ? 'this-proxy' : 'rust-proxy'} ${role}`;
  // Still uid 0; the group alone lets the namespace's rules tell its app connections apart (netns.ts).
  const opts = { env: childEnv, ...(role === 'inbound' ? { gid: MESH.inboundProxyGid } : {}) };
  if (kind.kind === 'rust') return startChild(name, kind.binary, [], opts);
  return startChild(name, process.execPath, [...nodeFlags(ctx, role), path.join(ctx.root, 'dist/src/main.js')], opts);
}

export async function startDevmeshPair(ctx: BenchContext, kind: PairKind): Promise<RunningConfig> {
  const mesh = ctx.mesh;
  if (mesh === undefined) throw new Error('the dev-control-plane pair runs only inside the bench network namespace (as root)');
  const addrs: PairAddrs = kind.kind === 'ours' ? MESH.ours : MESH.rust;
  const cp = mesh.controlPlane;
  const inbound = startOne(ctx, kind, 'inbound', cp.proxyEnv(addrs.serverWorkload, listenEnv(addrs.inboundHost)));
  const outbound = startOne(ctx, kind, 'outbound', cp.proxyEnv(addrs.clientWorkload, listenEnv(addrs.outboundHost)));
  const stop = async (): Promise<void> => {
    await Promise.all([stopChild(outbound, 5000), stopChild(inbound, 5000)]);
  };
  try {
    // Ready once each has its certificate from the identity service.
    for (const [c, host] of [[inbound, addrs.inboundHost], [outbound, addrs.outboundHost]] as const) {
      await Promise.race([
        waitForHttp200(`http://${host}:${MESH.adminPort}/ready`, 30_000),
        c.exited.then((code) => {
          throw new Error(`${c.name} exited (${code}): ${c.output()}`);
        }),
      ]);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const procs = [{ role: 'outbound', pgid: outbound.pid }, { role: 'inbound', pgid: inbound.pid }];
  const what = kind.kind === 'ours' ? 'node dist/src/main.js' : path.basename(kind.binary);
  return {
    http: { host: addrs.serviceHttp, port: MESH.servicePort, procs },
    tcp: ctx.origin.tcpPort === undefined ? undefined : { host: addrs.serviceTcp, port: MESH.originTcpPort, procs },
    notes: [
      `${what} with the variables the dev control plane gives ${addrs.clientWorkload} and ${addrs.serverWorkload} (bench/manifests/bench-mesh.yaml); Linkerd identity from its Certify service`,
      `original destinations from iptables DNAT in network namespace ${mesh.ns} (SO_ORIGINAL_DST); clients dial the Service IPs ${addrs.serviceHttp}:${MESH.servicePort} and ${addrs.serviceTcp}:${MESH.originTcpPort}`,
      ...(kind.kind === 'rust' ? ['LINKERD2_PROXY_CORES=1'] : []),
    ],
    checks: async () => {
      const tls = await inboundSawTls(addrs.inboundHost, MESH.adminPort);
      return tls === undefined ? ['could not read the inbound proxy\'s metrics'] : [`inbound proxy metrics: connections from the outbound proxy ${tls ? 'were mTLS' : 'were NOT TLS'}`];
    },
    stop,
  };
}
