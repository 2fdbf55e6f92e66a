// Outbound mTLS interop with our own inbound proxy: a discovered endpoint naming the proxy's identity, the proxy forwarding to an app.
import t, { type Test } from 'tap';
import net from 'node:net';
import { startProxy } from '../../../src/app.js';
import { fixedOrigDst, socketAddr } from '../../../src/transport/index.js';
import { TestPki } from '../../support/pki.js';
import { TEST_SERVER_NAME, TEST_SPIFFE_ID, testCredentials } from '../../support/proxy-env.js';
import { closeReason, roundTrip } from '../../support/net.js';
import { credentialsFromLeaf, staticIdentity } from '../../support/static-identity.js';
import { countingEcho, testConfig } from './helpers/runtime.js';
import { opaqueStack } from './helpers/stack.js';
import { SERVICE_PATH, addUpdate, balancerBackend, opaquePolicy, weightedAddr } from '../../support/outbound-wire.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds: proxyCreds } = testCredentials(pki);
const CLIENT_ID = 'web.test.serviceaccount.identity.linkerd.cluster.local';
const clientCreds = credentialsFromLeaf(pki.leaf(ca, { dns: [CLIENT_ID] }), { trustAnchors: ca });
const SERVICE = socketAddr('10.96.0.10', 80);

/** Our proxy with the test identity; every inbound connection is for the app on `appPort`. */
async function inboundProxy(t: Test, appPort: number, env: Record<string, string> = {}) {
  const proxy = await startProxy(testConfig(ca.certPem, env), {
    identity: staticIdentity(proxyCreds),
    origDst: { inbound: fixedOrigDst(() => socketAddr('127.0.0.1', appPort)), outbound: fixedOrigDst(() => socketAddr('127.0.0.1', appPort)) },
    allowOutboundLoopback: true,
  });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();
  return proxy;
}

t.test('the connector originates mTLS the inbound proxy terminates; bytes reach the app behind it', async (t) => {
  const app = await countingEcho(t);
  const proxy = await inboundProxy(t, app.port);
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds: clientCreds, origDst: SERVICE });
  stack.policy.outbound('10.96.0.10:80').publish(opaquePolicy([balancerBackend()]));
  stack.dst.getSender(SERVICE_PATH).initial = [
    addUpdate([weightedAddr('127.0.0.1', proxy.inboundAddr.port, { uriIdentity: TEST_SPIFFE_ID, serverName: TEST_SERVER_NAME, labels: { pod: 'vm-1' } })]),
  ];

  const payload = Buffer.alloc(256 * 1024, 3);
  const echoed = await roundTrip(stack.port, payload);
  t.ok(echoed.equals(payload), '256 KiB through outbound mTLS → inbound → app and back');
  t.equal(app.accepted, 1);
  await stack.settled();

  const outbound = await stack.rt.metrics.render();
  t.ok(
    outbound.split('\n').includes(
      `tcp_open_total{direction="outbound",peer="dst",authority="${SERVICE_PATH}",target_addr="127.0.0.1:${proxy.inboundAddr.port}",target_ip="127.0.0.1",target_port="${proxy.inboundAddr.port}",tls="true",server_id="${TEST_SPIFFE_ID}",dst_namespace="test",dst_pod="vm-1",dst_service="echo"} 1`,
    ),
    'outbound connect counted as TLS with the server id',
  );
  const inbound = await proxy.metrics.render();
  t.match(inbound, new RegExp(`^tcp_open_total\\{direction="inbound",peer="src",target_addr="127.0.0.1:${app.port}",[^}]*tls="true",client_id="${CLIENT_ID}"[^}]*\\} 1$`, 'm'), 'the inbound proxy saw our client identity');
});

t.test('an endpoint naming another identity is refused with PeerIdentityMismatch logged; the app sees nothing', async (t) => {
  const app = await countingEcho(t);
  // The refused client never finishes its side of the handshake; the inbound gives up on it after its detect timeout.
  const proxy = await inboundProxy(t, app.port, { LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT: '500ms' });
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds: clientCreds, origDst: SERVICE });
  stack.policy.outbound('10.96.0.10:80').publish(opaquePolicy([balancerBackend()]));
  const impostor = 'spiffe://root.linkerd.cluster.local/not-the-proxy';
  stack.dst.getSender(SERVICE_PATH).initial = [addUpdate([weightedAddr('127.0.0.1', proxy.inboundAddr.port, { uriIdentity: impostor, serverName: TEST_SERVER_NAME })])];

  const client = net.connect(stack.port, '127.0.0.1');
  client.write('secret request');
  t.equal(await closeReason(client), 'reset', 'the client connection is closed');
  const reasons = stack.rt.log.closeReasons();
  t.equal(reasons.length, 1);
  t.match(reasons[0], `server identity mismatch: expected ${impostor}, certificate presents`);
  t.match(reasons[0], TEST_SPIFFE_ID);
  t.equal(app.received, 0, 'no byte reached the app');
});
