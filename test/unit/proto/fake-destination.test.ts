// The Destination fake speaks real gRPC with our codec: streams, statuses, restarts, TLS.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient, StreamReader, tcpAddress } from '../../support/control-plane-codec.js';
import { FakeDestination } from '../../support/fake-destination.js';
import { TestPki } from '../../support/pki.js';

const SERVICE = 'io.linkerd.proxy.destination.Destination';
const AUTHORITY = 'web.emojivoto.svc.cluster.local:80';
const TOKEN = '{"ns":"emojivoto", "nodeName":"node-1", "pod":"vote-bot-1"}\n';

async function setup(t: Test): Promise<{ fake: FakeDestination; client: ControlPlaneClient }> {
  const fake = await FakeDestination.start();
  const client = new ControlPlaneClient(SERVICE, fake.address);
  t.teardown(async () => {
    client.close();
    await fake.stop();
  });
  return { fake, client };
}

const endpoint = { addr: { ip: { ipv4: 0x0a000001, ip: 'ipv4' }, port: 8080 }, weight: 10000 };

t.test('Get streams an add then a remove, and the fake records path and context token', async (t) => {
  const { fake, client } = await setup(t);
  const sender = fake.getSender(AUTHORITY);
  const reader = new StreamReader(client.serverStream('Get', { path: AUTHORITY, contextToken: TOKEN }));
  await sender.waitForStreams(1);
  t.same(fake.requests.map((r) => [r.method, r.path, r.contextToken, r.scheme]), [['Get', AUTHORITY, TOKEN, '']]);
  sender.push({ add: { addrs: [endpoint], metricLabels: { service: 'web', namespace: 'emojivoto' } } });
  t.same(await reader.message(1), { add: { addrs: [endpoint], metricLabels: { service: 'web', namespace: 'emojivoto' } }, update: 'add' });
  sender.push({ remove: { addrs: [tcpAddress('10.0.0.1', 8080)] } });
  t.same(await reader.message(2), { remove: { addrs: [endpoint.addr] }, update: 'remove' });
  t.equal(sender.openStreams, 1);
  sender.end();
  t.same(await reader.ended(), { code: grpc.status.OK, details: 'OK' });
});

t.test('GetProfile replays the current profile to each new stream', async (t) => {
  const { fake, client } = await setup(t);
  const path = '10.0.0.1:8080';
  fake.profileSender(path).publish({ opaqueProtocol: true, endpoint });
  const first = new StreamReader(client.serverStream('GetProfile', { path, contextToken: TOKEN }));
  t.same(await first.message(1), { opaqueProtocol: true, endpoint });
  fake.profileSender(path).publish({ fullyQualifiedName: 'web.emojivoto.svc.cluster.local' });
  t.same(await first.message(2), { fullyQualifiedName: 'web.emojivoto.svc.cluster.local' });
  const second = new StreamReader(client.serverStream('GetProfile', { path }));
  t.same(await second.message(1), { fullyQualifiedName: 'web.emojivoto.svc.cluster.local' });
  t.same(fake.requests.map((r) => [r.method, r.path, r.contextToken]), [['GetProfile', path, TOKEN], ['GetProfile', path, '']]);
  first.cancel();
  second.cancel();
});

t.test('failures arrive as the chosen status', async (t) => {
  const { fake, client } = await setup(t);
  const sender = fake.getSender(AUTHORITY);
  const open = new StreamReader(client.serverStream('Get', { path: AUTHORITY }));
  await sender.waitForStreams(1);
  sender.fail(grpc.status.NOT_FOUND, 'service not found');
  t.same(await open.ended(), { code: grpc.status.NOT_FOUND, details: 'service not found' });

  sender.rejectWith = { code: grpc.status.INVALID_ARGUMENT, details: 'IP queries not supported by Get API' };
  t.same(await new StreamReader(client.serverStream('Get', { path: AUTHORITY })).ended(), { code: grpc.status.INVALID_ARGUMENT, details: 'IP queries not supported by Get API' });

  fake.gets.unknown = { code: grpc.status.NOT_FOUND, details: 'unknown service' };
  t.equal((await new StreamReader(client.serverStream('Get', { path: 'nope.default.svc.cluster.local:80' })).ended()).code, grpc.status.NOT_FOUND);
  t.equal(fake.requests.length, 3);
});

t.test('a service with no ready endpoints: the stream stays open and silent', async (t) => {
  const { fake, client } = await setup(t);
  const reader = new StreamReader(client.serverStream('Get', { path: AUTHORITY }));
  await fake.log.waitFor(1);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(reader.messages.length, 0);
  t.equal(reader.status, undefined);
  // The test may take the key over after the call arrived.
  fake.getSender(AUTHORITY).push({ add: { addrs: [endpoint] } });
  t.same(await reader.message(1), { add: { addrs: [endpoint] }, update: 'add' });
  reader.cancel();
});

t.test('restart() cuts streams with UNAVAILABLE and serves again on the same port', async (t) => {
  const { fake, client } = await setup(t);
  const port = fake.port;
  const sender = fake.getSender(AUTHORITY);
  sender.initial = [{ add: { addrs: [endpoint] } }];
  const before = new StreamReader(client.serverStream('Get', { path: AUTHORITY }));
  await before.message(1);
  await fake.restart();
  const status = await before.ended();
  t.equal(status.code, grpc.status.UNAVAILABLE, `cut stream ends UNAVAILABLE (${status.details})`);
  t.equal(fake.port, port);
  t.equal(sender.openStreams, 0);
  const after = new StreamReader(client.serverStream('Get', { path: AUTHORITY }));
  t.same(await after.message(1), { add: { addrs: [endpoint] }, update: 'add' });
  t.equal(sender.opened, 2);
  after.cancel();
});

t.test('TLS variant: mutual TLS with the control-plane identity, client identity recorded', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const ca = pki.root();
  const serverName = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';
  const server = pki.leaf(ca, { dns: [serverName] });
  const proxy = pki.leaf(ca, { dns: ['web.emojivoto.serviceaccount.identity.linkerd.cluster.local'] });
  const fake = await FakeDestination.start({ tls: { certChainPem: server.chainPem, keyPem: server.keyPem, clientCaPem: ca.certPem } });
  const creds = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(proxy.keyPem), Buffer.from(proxy.chainPem));
  const client = new ControlPlaneClient(SERVICE, `localhost:${fake.port}`, creds, { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName });
  t.teardown(async () => {
    client.close();
    await fake.stop();
  });
  fake.getSender(AUTHORITY).initial = [{ add: { addrs: [endpoint] } }];
  const reader = new StreamReader(client.serverStream('Get', { path: AUTHORITY }));
  t.same(await reader.message(1), { add: { addrs: [endpoint] }, update: 'add' });
  t.equal(fake.requests[0]?.peerSan, 'DNS:web.emojivoto.serviceaccount.identity.linkerd.cluster.local');
  reader.cancel();

  const anonymous = new ControlPlaneClient(SERVICE, `localhost:${fake.port}`, grpc.credentials.createSsl(Buffer.from(ca.certPem)), { 'grpc.ssl_target_name_override': serverName });
  t.teardown(() => anonymous.close());
  t.equal((await new StreamReader(anonymous.serverStream('Get', { path: AUTHORITY })).ended()).code, grpc.status.UNAVAILABLE, 'no client certificate, no call');
});
