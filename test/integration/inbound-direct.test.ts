// A meshed client's opaque-transport connection to the proxy's own port, end to end through startProxy.
import t from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { localAddrOrigDst } from '../../src/transport/index.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import { connectMtls } from '../../src/tls/client.js';
import { encodeTransportHeader, TRANSPORT_HEADER_ALPN } from '../../src/transport/transport-header.js';
import type { Credentials } from '../../src/identity/types.js';
import { TestPki } from '../support/pki.js';
import { TEST_SERVER_NAME, TEST_SPIFFE_ID, testCredentials, testProxyEnv } from '../support/proxy-env.js';
import { echoServer } from '../support/net.js';

t.test('mTLS + ALPN transport.l5d.io/v1 + header for port P reaches the app on P', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const { ca, creds } = testCredentials(pki);
  const clientLeaf = pki.leaf(ca, { dns: ['client.default.serviceaccount.identity.linkerd.cluster.local'] });
  const clientCreds: Credentials = { ...creds, serverId: 'client.default.serviceaccount.identity.linkerd.cluster.local', certChainPem: clientLeaf.chainPem, keyPem: clientLeaf.keyPem, generation: 7 };
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const { config } = loadConfig(testProxyEnv(ca.certPem));
  // Without iptables the original destination of a connection to the inbound port is that port itself.
  const proxy = await startProxy(config, { identity: staticIdentity(creds), origDst: localAddrOrigDst(), discovery: false });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();

  const tcp = net.connect(proxy.inboundAddr.port, '127.0.0.1');
  await once(tcp, 'connect');
  const session = await connectMtls(tcp, clientCreds, { serverName: TEST_SERVER_NAME, expectedServerId: TEST_SPIFFE_ID, alpn: [TRANSPORT_HEADER_ALPN], timeoutMs: 2000 });
  t.equal(session.alpnProtocol, TRANSPORT_HEADER_ALPN, 'the inbound proxy negotiated the transport protocol');
  session.write(Buffer.concat([encodeTransportHeader({ port: echo.port }), Buffer.from('through the direct path')]));
  let got = '';
  session.on('data', (c: Buffer) => (got += c.toString()));
  for (let i = 0; i < 100 && got.length < 23; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(got, 'through the direct path', 'the app echoed the bytes after the header');
  session.destroy();
  const text = await proxy.metrics.render();
  t.match(text, /^inbound_tcp_transport_header_connections_total\{[^}]*\} 1$/m, 'counted as a transport-header connection');
});
