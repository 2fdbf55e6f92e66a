// controlPlaneClients wires the three clients from a loaded config: addresses, context token, workload, eager ports.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { FakeDestination } from '../../support/fake-destination.js';
import { FakePolicy } from '../../support/fake-policy.js';
import { tcpAddress } from '../../support/control-plane-codec.js';
import { TestPki } from '../../support/pki.js';
import { testCredentials, testProxyEnv } from '../../support/proxy-env.js';
import { staticIdentity } from '../../support/static-identity.js';
import { loadConfig } from '../../../src/config/index.js';
import { controlPlaneClients } from '../../../src/discovery/clients.js';
import { TestClock, until } from '../control/helpers/test-clock.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);

t.test('the clients reach the configured control planes with the configured identity strings', async (t) => {
  const dst = await FakeDestination.start();
  const policy = await FakePolicy.start();
  t.teardown(async () => {
    await dst.stop();
    await policy.stop();
  });
  const context = '{"ns":"test", "nodeName":"n1", "pod":"test"}\n';
  const { config } = loadConfig(
    testProxyEnv(ca.certPem, {
      LINKERD2_PROXY_DESTINATION_SVC_ADDR: `127.0.0.1:${dst.port}`,
      LINKERD2_PROXY_POLICY_SVC_ADDR: `127.0.0.1:${policy.port}`,
      LINKERD2_PROXY_DESTINATION_CONTEXT: context,
      LINKERD2_PROXY_INBOUND_PORTS: '8080,9000-9001',
    }),
  );
  const clock = new TestClock();
  const clients = controlPlaneClients(config, staticIdentity(creds), { clock });
  t.teardown(() => clients.close());

  t.equal(clients.watchEagerInboundPorts(), 3, 'INBOUND_PORTS (the ephemeral admin port has no policy)');
  await until(() => policy.inboundRequests.length === 3, 'the eager WatchPort calls');
  t.same(policy.inboundRequests.map((r) => r.port).sort(), [8080, 9000, 9001]);
  t.ok(policy.inboundRequests.every((r) => r.workload === '{"ns":"test","pod":"test"}'));

  dst.getSender('web.test.svc.cluster.local:80').initial = [{ add: { addrs: [{ addr: tcpAddress('10.0.0.1', 80) }] } }];
  const view = await clients.destination.get('web.test.svc.cluster.local:80').first();
  t.equal(view.endpoints.size, 1);
  t.equal(dst.requests[0]?.contextToken, context);

  policy.targets.unknown = { code: grpc.status.NOT_FOUND, details: 'no policy' };
  const fallback = await clients.outboundPolicy.watch({ host: '10.0.0.7', port: 80, family: 4 }).first();
  t.equal(fallback.kind, 'fallback');
  const q = fallback.kind === 'fallback' ? fallback.policy?.backends[0]?.queue : undefined;
  t.same(q, config.outbound.tcpQueue, 'the synthesised policy uses the outbound TCP queue');
  t.same(clock.pending.filter((ms) => ms === config.inbound.policy.cacheMaxIdleAgeMs), [], 'eager inbound watches never idle out');
});
