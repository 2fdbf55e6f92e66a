// This proxy in a process of its own, as a sidecar would run, with static credentials and injected original destinations.
// argv[2]: JSON ProxyChildArgs. Prints {"inbound":port,"outbound":port,"admin":port} once ready.
import { readFileSync } from 'node:fs';
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import { fixedOrigDst, socketAddr, type SocketAddr } from '../../src/transport/index.js';
import { testProxyEnv } from '../../test/support/proxy-env.js';

export interface ProxyChildArgs {
  /** Original destination of every outbound connection (the peer's inbound listener), if any. */
  readonly outboundTo: string | undefined;
  /** Original destination of every inbound connection (the origin), if any. */
  readonly inboundTo: string | undefined;
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPath: string;
  /** Our SPIFFE id (a URI SAN of the leaf). */
  readonly id: string;
  /** Our server name (a DNS SAN of the leaf): the SNI we terminate. */
  readonly name: string;
}

const a = JSON.parse(process.argv[2] ?? '{}') as ProxyChildArgs;
const addr = (hp: string | undefined): SocketAddr => {
  const [host, port] = (hp ?? '127.0.0.1:9').split(':');
  return socketAddr(host!, Number(port));
};
const ca = readFileSync(a.caPath, 'utf8');
const { config } = loadConfig(
  testProxyEnv(ca, {
    LINKERD2_PROXY_IDENTITY_SERVER_ID: a.id,
    LINKERD2_PROXY_IDENTITY_SERVER_NAME: a.name,
    LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '1s',
  }),
);
const now = Date.now();
const identity = staticIdentity({
  serverId: a.id,
  serverName: a.name,
  certChainPem: readFileSync(a.certPath, 'utf8'),
  keyPem: readFileSync(a.keyPath, 'utf8'),
  trustAnchorsPem: ca,
  notBeforeMs: now - 60_000,
  notAfterMs: now + 86_400_000,
  generation: 1,
});
const outboundTo = addr(a.outboundTo);
const inboundTo = addr(a.inboundTo);
const proxy = await startProxy(config, {
  identity,
  origDst: { outbound: fixedOrigDst(() => outboundTo), inbound: fixedOrigDst(() => inboundTo) },
  allowOutboundLoopback: true,
  discovery: false,
});
await proxy.ready();
process.stdout.write(JSON.stringify({ inbound: proxy.inboundAddr.port, outbound: proxy.outboundAddrs[0]!.port, admin: proxy.adminAddr.port }) + '\n');
process.once('SIGTERM', () => {
  // Exit after a clean shutdown (so node --cpu-prof writes its profile), or after 3 s regardless.
  setTimeout(() => process.exit(0), 3000).unref();
  void proxy.shutdown().then(() => process.exit(0));
});
