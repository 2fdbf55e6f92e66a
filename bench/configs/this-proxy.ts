// This proxy as a pair: client → outbound proxy → mTLS → inbound proxy → origin, one process per proxy.
// As root (inside the bench's network namespace): driven by the dev control plane with iptables capture (devmesh-pair.ts).
// Otherwise: static identities and injected original destinations, discovery off (bench/support/proxy-child.ts).
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { startChild, stopChild, type Child } from '../support/children.js';
import { startDevmeshPair } from './devmesh-pair.js';
import { inboundSawTls, nodeFlags } from './proxy-common.js';
import type { ProxyChildArgs } from '../support/proxy-child.js';
import type { BenchContext, Endpoint, MeshConfig, RunningConfig } from './types.js';

interface ChildPorts {
  readonly inbound: number;
  readonly outbound: number;
  readonly admin: number;
}

interface StartedProxy {
  readonly child: Child;
  readonly ports: ChildPorts;
}

async function startProxyChild(ctx: BenchContext, role: string, args: ProxyChildArgs): Promise<StartedProxy> {
  const script = path.join(ctx.root, 'dist/bench/support/proxy-child.js');
  const child = startChild(`this-proxy ${role}`, process.execPath, [...nodeFlags(ctx, role), script, JSON.stringify(args)]);
  const lines = createInterface({ input: child.proc.stdout! });
  const first = once(lines, 'line') as Promise<[string]>;
  const [line] = await Promise.race([first, child.exited.then((code) => {
    throw new Error(`this-proxy ${role} exited (${code}) before it was ready: ${child.output()}`);
  })]);
  lines.close();
  return { child, ports: JSON.parse(line) as ChildPorts };
}

/** An outbound proxy whose every connection's original destination is `to`, and an inbound one forwarding to `origin`. */
async function injectedPair(ctx: BenchContext, originPort: number, tag: string): Promise<{ endpoint: Endpoint; procs: StartedProxy[] }> {
  const { pki } = ctx;
  const inbound = await startProxyChild(ctx, `inbound-${tag}`, {
    outboundTo: undefined, inboundTo: `127.0.0.1:${originPort}`,
    certPath: pki.server.leaf.chainPath, keyPath: pki.server.leaf.keyPath, caPath: pki.ca.certPath, id: pki.server.spiffeId, name: pki.server.name,
  });
  const outbound = await startProxyChild(ctx, `outbound-${tag}`, {
    outboundTo: `127.0.0.1:${inbound.ports.inbound}`, inboundTo: undefined,
    certPath: pki.client.leaf.chainPath, keyPath: pki.client.leaf.keyPath, caPath: pki.ca.certPath, id: pki.client.spiffeId, name: pki.client.name,
  });
  return {
    endpoint: { host: '127.0.0.1', port: outbound.ports.outbound, procs: [{ role: 'outbound', pgid: outbound.child.pid }, { role: 'inbound', pgid: inbound.child.pid }] },
    procs: [outbound, inbound],
  };
}

async function startInjected(ctx: BenchContext): Promise<RunningConfig> {
  const http = await injectedPair(ctx, ctx.origin.httpPort, 'http');
  const tcp = ctx.origin.tcpPort === undefined ? undefined : await injectedPair(ctx, ctx.origin.tcpPort, 'tcp');
  const all = [...http.procs, ...(tcp?.procs ?? [])];
  const inboundAdmin = http.procs[1]!.ports.admin;
  const notes = [
    'static identities, original destinations injected (fixedOrigDst), discovery off',
    'not root, so no network namespace and no dev control plane: without discovery the outbound proxy forwards to its original destination, so the proxy-to-proxy hop is plaintext, not mTLS',
  ];
  if (tcp !== undefined) notes.push('a second pair carries the opaque TCP load (one injected original destination per inbound proxy)');
  return {
    http: http.endpoint,
    tcp: tcp?.endpoint,
    notes,
    checks: async () => {
      const tls = await inboundSawTls('127.0.0.1', inboundAdmin);
      return tls === undefined ? [] : [`inbound proxy metrics: peer connections ${tls ? 'were' : 'were not'} TLS`];
    },
    stop: async () => {
      await Promise.all(all.map((p) => stopChild(p.child, 5000)));
    },
  };
}

export const thisProxy: MeshConfig = {
  name: 'this-proxy',
  label: 'this proxy (linkerd2-proxy-ts)',
  unavailable: () => undefined,
  start: (ctx) => (ctx.mesh !== undefined ? startDevmeshPair(ctx, { kind: 'ours' }) : startInjected(ctx)),
};
