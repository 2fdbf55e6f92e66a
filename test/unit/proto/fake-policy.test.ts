// The policy fake speaks real gRPC with our codec: inbound WatchPort by port, outbound Watch by target.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient, StreamReader, tcpAddress } from '../../support/control-plane-codec.js';
import type { Wire } from '../../support/control-plane-codec.js';
import { FakePolicy } from '../../support/fake-policy.js';
import type { FakePolicyOptions } from '../../support/fake-policy.js';

const INBOUND = 'io.linkerd.proxy.inbound.InboundServerPolicies';
const OUTBOUND = 'io.linkerd.proxy.outbound.OutboundPolicies';
const WORKLOAD = '{"ns":"default","external_workload":"legacy-vm-1"}\n';

async function setup(t: Test, opts: FakePolicyOptions = {}): Promise<{ fake: FakePolicy; inbound: ControlPlaneClient; outbound: ControlPlaneClient }> {
  const fake = await FakePolicy.start(opts);
  const inbound = new ControlPlaneClient(INBOUND, fake.address);
  const outbound = new ControlPlaneClient(OUTBOUND, fake.address);
  t.teardown(async () => {
    inbound.close();
    outbound.close();
    await fake.stop();
  });
  return { fake, inbound, outbound };
}

const detectServer: Wire = {
  protocol: { detect: { timeout: { seconds: '10' } }, kind: 'detect' },
  authorizations: [
    {
      networks: [{ net: { ip: { ipv4: 0, ip: 'ipv4' } } }],
      authentication: { unauthenticated: {}, permit: 'unauthenticated' },
      metadata: { default: 'all-unauthenticated', kind: 'default' },
    },
  ],
  labels: { group: '', kind: 'default', name: 'all-unauthenticated' },
};
const opaqueServer: Wire = { protocol: { opaque: {}, kind: 'opaque' }, labels: { group: 'policy.linkerd.io', kind: 'server', name: 'legacy-db' } };

function opaquePolicy(path: string): Wire {
  const backend = {
    metadata: { resource: { group: 'core', kind: 'Service', name: 'web', namespace: 'emojivoto', port: 80 }, kind: 'resource' },
    balancer: { discovery: { dst: { path }, kind: 'dst' }, peakEwma: { defaultRtt: { nanos: 30000000 }, decay: { seconds: '10' } }, load: 'peakEwma' },
    kind: 'balancer',
    queue: { capacity: 100, failfastTimeout: { seconds: '3' } },
  };
  return {
    protocol: { opaque: { routes: [{ metadata: { default: 'opaq', kind: 'default' }, rules: [{ backends: { firstAvailable: { backends: [{ backend }] }, kind: 'firstAvailable' } }] }] }, kind: 'opaque' },
    metadata: backend.metadata,
  };
}

t.test('WatchPort streams the port\'s Server, then each replacement; workload and port are recorded', async (t) => {
  const { fake, inbound } = await setup(t);
  fake.inbound(8080).publish(detectServer);
  const reader = new StreamReader(inbound.serverStream('WatchPort', { workload: WORKLOAD, port: 8080 }));
  t.same(await reader.message(1), detectServer);
  t.same(fake.inboundRequests.map((r) => [r.method, r.workload, r.port]), [['WatchPort', WORKLOAD, 8080]]);
  fake.inbound(8080).publish(opaqueServer);
  t.same(await reader.message(2), opaqueServer);
  // Another port is another key.
  fake.inbound(5432).publish(opaqueServer);
  const other = new StreamReader(inbound.serverStream('WatchPort', { workload: WORKLOAD, port: 5432 }));
  t.same(await other.message(1), opaqueServer);
  t.equal(fake.inbound(8080).opened, 1);
  fake.inbound(8080).end();
  t.equal((await reader.ended()).code, grpc.status.OK);
  other.cancel();
});

t.test('Watch by original address (ip:port) and by authority; source workload recorded', async (t) => {
  const { fake, outbound } = await setup(t);
  fake.outbound('10.96.0.12:80').publish(opaquePolicy('web.emojivoto.svc.cluster.local:80'));
  fake.outbound('[fd00:10:96::c]:80').publish(opaquePolicy('web.emojivoto.svc.cluster.local:80'));
  fake.outbound('web.emojivoto.svc.cluster.local:80').publish(opaquePolicy('web.emojivoto.svc.cluster.local:80'));
  const byAddr = new StreamReader(outbound.serverStream('Watch', { sourceWorkload: WORKLOAD, addr: tcpAddress('10.96.0.12', 80) }));
  const byV6 = new StreamReader(outbound.serverStream('Watch', { sourceWorkload: WORKLOAD, addr: tcpAddress('fd00:10:96::c', 80) }));
  const byName = new StreamReader(outbound.serverStream('Watch', { sourceWorkload: WORKLOAD, authority: 'web.emojivoto.svc.cluster.local:80' }));
  for (const r of [byAddr, byV6, byName]) t.same(await r.message(1), opaquePolicy('web.emojivoto.svc.cluster.local:80'));
  t.same(
    fake.outboundRequests.map((r) => [r.method, r.sourceWorkload, r.target, r.authority]).sort(),
    [
      ['Watch', WORKLOAD, '10.96.0.12:80', undefined],
      ['Watch', WORKLOAD, '[fd00:10:96::c]:80', undefined],
      ['Watch', WORKLOAD, 'web.emojivoto.svc.cluster.local:80', 'web.emojivoto.svc.cluster.local:80'],
    ].sort(),
  );
  fake.outbound('10.96.0.12:80').publish(opaquePolicy('web-v2.emojivoto.svc.cluster.local:80'));
  t.same(await byAddr.message(2), opaquePolicy('web-v2.emojivoto.svc.cluster.local:80'));
  for (const r of [byAddr, byV6, byName]) r.cancel();
});

t.test('NotFound for unknown workloads and pod IPs, on streams and unary calls', async (t) => {
  const { fake, inbound, outbound } = await setup(t);
  fake.ports.unknown = { code: grpc.status.NOT_FOUND, details: 'unknown server' };
  fake.targets.unknown = { code: grpc.status.NOT_FOUND, details: 'no policy for 10.244.1.5:8080' };
  t.same(await new StreamReader(inbound.serverStream('WatchPort', { workload: WORKLOAD, port: 9999 })).ended(), { code: grpc.status.NOT_FOUND, details: 'unknown server' });
  t.same(await new StreamReader(outbound.serverStream('Watch', { sourceWorkload: WORKLOAD, addr: tcpAddress('10.244.1.5', 8080) })).ended(), { code: grpc.status.NOT_FOUND, details: 'no policy for 10.244.1.5:8080' });
  await t.rejects(inbound.unary('GetPort', { workload: WORKLOAD, port: 9999 }), { code: grpc.status.NOT_FOUND });

  // A watched port can also start failing; open streams fail with the chosen status.
  fake.inbound(8080).publish(detectServer);
  const reader = new StreamReader(inbound.serverStream('WatchPort', { workload: WORKLOAD, port: 8080 }));
  await reader.message(1);
  fake.inbound(8080).fail(grpc.status.NOT_FOUND, 'workload deleted');
  t.same(await reader.ended(), { code: grpc.status.NOT_FOUND, details: 'workload deleted' });
  fake.inbound(8080).rejectWith = { code: grpc.status.INVALID_ARGUMENT, details: 'invalid workload' };
  t.equal((await new StreamReader(inbound.serverStream('WatchPort', { workload: 'nonsense', port: 8080 })).ended()).code, grpc.status.INVALID_ARGUMENT);

  // Unary calls answer with the latest published message.
  fake.outbound('10.96.0.12:80').publish(opaquePolicy('web.emojivoto.svc.cluster.local:80'));
  t.same(await outbound.unary('Get', { sourceWorkload: WORKLOAD, addr: tcpAddress('10.96.0.12', 80) }), opaquePolicy('web.emojivoto.svc.cluster.local:80'));
  t.same(fake.outboundRequests.map((r) => r.method), ['Watch', 'Get']);
});

t.test('a control plane without an API answers UNIMPLEMENTED', async (t) => {
  const { fake, inbound, outbound } = await setup(t, { outbound: false });
  const watch = await new StreamReader(outbound.serverStream('Watch', { sourceWorkload: WORKLOAD, addr: tcpAddress('10.96.0.12', 80) })).ended();
  t.equal(watch.code, grpc.status.UNIMPLEMENTED);
  t.equal(fake.outboundRequests.length, 0);
  // The inbound API is still served.
  fake.inbound(8080).publish(detectServer);
  const reader = new StreamReader(inbound.serverStream('WatchPort', { workload: WORKLOAD, port: 8080 }));
  t.same(await reader.message(1), detectServer);
  reader.cancel();
});

t.test('restart() ends policy watches UNAVAILABLE; a new watch on the same port gets the policy again', async (t) => {
  const { fake, inbound, outbound } = await setup(t);
  const port = fake.port;
  fake.inbound(8080).publish(detectServer);
  fake.outbound('10.96.0.12:80').publish(opaquePolicy('web.emojivoto.svc.cluster.local:80'));
  const watchPort = new StreamReader(inbound.serverStream('WatchPort', { workload: WORKLOAD, port: 8080 }));
  const watch = new StreamReader(outbound.serverStream('Watch', { sourceWorkload: WORKLOAD, addr: tcpAddress('10.96.0.12', 80) }));
  await watchPort.message(1);
  await watch.message(1);
  await fake.restart();
  t.equal((await watchPort.ended()).code, grpc.status.UNAVAILABLE);
  t.equal((await watch.ended()).code, grpc.status.UNAVAILABLE);
  t.equal(fake.port, port);
  const again = new StreamReader(inbound.serverStream('WatchPort', { workload: WORKLOAD, port: 8080 }));
  t.same(await again.message(1), detectServer);
  t.equal(fake.inbound(8080).opened, 2);
  again.cancel();
});
