// The default inbound policy enforced on forwarded TCP connections, through a real inbound proxy.
import t, { type Test } from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { fixedOrigDst, socketAddr } from '../../src/transport/index.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import { TestPki, type Leaf } from '../support/pki.js';
import { TEST_SERVER_NAME, testCredentials, testProxyEnv } from '../support/proxy-env.js';
import { closeReason, echoServer, roundTrip } from '../support/net.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);
const dnsClient = pki.leaf(ca, { dns: ['web.default.serviceaccount.identity.linkerd.cluster.local'] });
const spiffeClient = pki.leaf(ca, { uris: ['spiffe://root.linkerd.cluster.local/external-workload'] });

async function proxyWithPolicy(t: Test, env: Record<string, string>) {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  let appConnections = 0;
  echo.server.on('connection', () => appConnections++);
  const { config } = loadConfig(testProxyEnv(ca.certPem, env));
  const target = socketAddr('127.0.0.1', echo.port);
  const proxy = await startProxy(config, { identity: staticIdentity(creds), origDst: fixedOrigDst(() => target) });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();
  return { proxy, echo, appConnections: () => appConnections };
}

/** Opens an mTLS session to the inbound proxy as `leaf` and echoes `text`; '' if refused. */
async function mtlsEcho(port: number, leaf: Leaf, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: TEST_SERVER_NAME, ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem, checkServerIdentity: () => undefined });
    let got = '';
    s.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= text.length) s.end();
    });
    s.on('secureConnect', () => s.write(text));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
  });
}

t.test('deny: every connection is closed before reaching the app', async (t) => {
  const { proxy, appConnections } = await proxyWithPolicy(t, { LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'deny' });
  const s = net.connect(proxy.inboundAddr.port, '127.0.0.1');
  s.on('connect', () => s.write('hello'));
  t.equal(await closeReason(s), 'reset', 'closed with a reset, no HTTP 403');
  t.equal(await mtlsEcho(proxy.inboundAddr.port, dnsClient, 'meshed'), '', 'a meshed client is refused too');
  t.equal(appConnections(), 0, 'the app never saw a connection');
  await sleep(20);
  const text = await proxy.metrics.render();
  t.match(text, /^inbound_tcp_authz_deny_total\{target_addr="127\.0\.0\.1:\d+",target_ip="127\.0\.0\.1",target_port="\d+",srv_group="",srv_kind="default",srv_name="deny",srv_port="\d+",tls="no_identity",no_tls_reason="port_skipped"\} 2$/m);
});

t.test('all-authenticated: DNS identities in, plaintext and SPIFFE identities out', async (t) => {
  const { proxy } = await proxyWithPolicy(t, { LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'all-authenticated' });
  t.equal(await mtlsEcho(proxy.inboundAddr.port, dnsClient, 'dns client'), 'dns client', 'a DNS identity is allowed');
  t.equal(await mtlsEcho(proxy.inboundAddr.port, spiffeClient, 'spiffe client'), '', 'a SPIFFE identity matches no suffix: denied');
  const plain = net.connect(proxy.inboundAddr.port, '127.0.0.1');
  plain.on('connect', () => plain.write('plaintext'));
  t.equal(await closeReason(plain), 'reset', 'plaintext is denied');
  await sleep(20);
  const text = await proxy.metrics.render();
  t.match(text, /^inbound_tcp_authz_allow_total\{[^}]*srv_name="all-authenticated"[^}]*authz_group="",authz_kind="default",authz_name="all-authenticated",tls="true",client_id="web\.default\.serviceaccount\.identity\.linkerd\.cluster\.local"\} 1$/m);
  t.match(text, /^inbound_tcp_authz_deny_total\{[^}]*tls="true",client_id="spiffe:\/\/root\.linkerd\.cluster\.local\/external-workload"\} 1$/m);
});

t.test('cluster-unauthenticated: only clients inside POLICY_CLUSTER_NETWORKS', async (t) => {
  const inside = await proxyWithPolicy(t, { LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'cluster-unauthenticated', LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: '127.0.0.0/8' });
  t.equal((await roundTrip(inside.proxy.inboundAddr.port, 'in cluster')).toString(), 'in cluster');
  const outside = await proxyWithPolicy(t, { LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'cluster-unauthenticated', LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: '10.0.0.0/8' });
  const s = net.connect(outside.proxy.inboundAddr.port, '127.0.0.1');
  s.on('connect', () => s.write('x'));
  t.equal(await closeReason(s), 'reset', 'a client outside the cluster networks is denied');
  t.equal(outside.appConnections(), 0);
});

t.test('opaque ports keep the default policy (opaque variant)', async (t) => {
  const { proxy, echo } = await proxyWithPolicy(t, { LINKERD2_PROXY_INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION: '1-65535' });
  t.equal((await roundTrip(proxy.inboundAddr.port, 'opaque bytes')).toString(), 'opaque bytes');
  await sleep(20);
  t.match(await proxy.metrics.render(), new RegExp(`^inbound_tcp_authz_allow_total\\{target_addr="127.0.0.1:${echo.port}",[^}]*srv_name="all-unauthenticated"[^}]*no_tls_reason="port_skipped"\\} 1$`, 'm'));
});
