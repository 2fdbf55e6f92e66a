// Control-plane channels: mTLS with our certificate to a server that must prove the configured identity.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { FakeDestination, type FakeTls } from '../../support/fake-destination.js';
import { tcpAddress } from '../../support/control-plane-codec.js';
import { deferredIdentity } from '../../support/deferred-identity.js';
import { TestPki } from '../../support/pki.js';
import { credentialsFromLeaf, staticIdentity } from '../../support/static-identity.js';
import type { ControlPlaneTls } from '../../../src/config/types.js';
import { ExpBackoff } from '../../../src/core/backoff.js';
import { NoCredentialsError, controlChannelFactory, controlTarget } from '../../../src/control/channel.js';
import { ControlChannel } from '../../../src/control/control-channel.js';
import { destinationRetryable } from '../../../src/control/retry-policies.js';
import { watchStream, type WatchFailure } from '../../../src/control/watch.js';
import { DestinationClient } from '../../../src/discovery/destination-client.js';
import type { EndpointsView } from '../../../src/discovery/destination-types.js';
import { messageCodec } from '../../../src/discovery/wire.js';
import type { IdentitySource } from '../../../src/identity/types.js';
import { silentLogger } from '../../../src/log/logger.js';
import { BACKOFF, NO_LIMITS, controlClient } from './helpers/control-client.js';
import { TestClock, until } from './helpers/test-clock.js';

const SVC = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';
const ME = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const AUTH = 'web.default.svc.cluster.local:80';
const MTLS: ControlPlaneTls = { kind: 'mtls', serverName: SVC, serverId: SVC };

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root('root.linkerd.cluster.local');
const issuer = pki.intermediate(root);
const myLeaf = pki.leaf(issuer, { dns: [ME] });
const myCreds = credentialsFromLeaf(myLeaf, { trustAnchors: root });

function serverTls(names: string[], signer = issuer): FakeTls {
  const leaf = pki.leaf(signer, { dns: names });
  return { certChainPem: leaf.chainPem, keyPem: leaf.keyPem, clientCaPem: root.certPem };
}

/** Opens one Get watch and reports its failures. */
function failingWatch(t: Test, port: number, identity: IdentitySource) {
  const failures: WatchFailure[] = [];
  const clock = new TestClock();
  const w = watchStream<Buffer, unknown>({
    channel: controlChannelFactory(controlClient(port, MTLS), identity, { plaintextOnLoopback: false }),
    path: '/io.linkerd.proxy.destination.Destination/Get',
    request: messageCodec('io.linkerd.proxy.destination.GetDestination').encode({ path: AUTH }),
    encode: (b) => b,
    decode: (b) => b,
    onMessage: () => undefined,
    onError: (f) => failures.push(f),
    backoff: new ExpBackoff(BACKOFF),
    retryable: destinationRetryable,
    streamLimits: NO_LIMITS,
    clock,
    logger: silentLogger,
  });
  t.teardown(() => w.close());
  return { failures, watch: w, clock };
}

t.test('mTLS to a server proving the configured identity, with our certificate', async (t) => {
  const fake = await FakeDestination.start({ tls: serverTls([SVC]) });
  t.teardown(() => fake.stop());
  const channel = new ControlChannel(controlChannelFactory(controlClient(fake.port, MTLS), staticIdentity(myCreds), { plaintextOnLoopback: false }));
  const client = new DestinationClient({ channel, contextToken: '', backoff: BACKOFF, streamLimits: NO_LIMITS, idleTimeoutMs: 5000, clock: new TestClock() });
  t.teardown(() => (client.close(), channel.close()));
  const sender = fake.getSender(AUTH);
  sender.initial = [{ add: { addrs: [{ addr: tcpAddress('10.0.0.1', 80) }] } }];
  const view: EndpointsView = await client.get(AUTH).first();
  t.same([...view.endpoints.keys()], ['10.0.0.1:80']);
  t.match(fake.requests[0]?.peerSan, `DNS:${ME}`, 'the server saw our client certificate');
});

t.test('a server whose certificate names another identity is refused, saying why', async (t) => {
  const other = 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local';
  const fake = await FakeDestination.start({ tls: serverTls([other]) });
  t.teardown(() => fake.stop());
  const { failures } = failingWatch(t, fake.port, staticIdentity(myCreds));
  await until(() => failures.length > 0, 'the refused connection');
  t.equal(failures[0]?.code, grpc.status.UNAVAILABLE);
  t.match(failures[0]?.details, `is not ${SVC}: its certificate names ${other}`);
  t.equal(fake.requests.length, 0, 'no request reached the impostor');
});

t.test('the ClientHello carries the configured server name as SNI and offers TLS 1.3', async (t) => {
  const leaf = pki.leaf(issuer, { dns: [SVC] });
  const seen: { sni: string | undefined; version: string | null }[] = [];
  const server = tls.createServer({ cert: leaf.chainPem, key: leaf.keyPem, minVersion: 'TLSv1.3' }, (socket) => {
    seen.push({ sni: (socket as tls.TLSSocket & { servername?: string }).servername, version: socket.getProtocol() });
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { failures } = failingWatch(t, (server.address() as AddressInfo).port, staticIdentity(myCreds));
  await until(() => seen.length > 0 && failures.length > 0, 'a handshake');
  t.same(seen[0], { sni: SVC, version: 'TLSv1.3' });
});

t.test('a server chaining to another trust root is refused', async (t) => {
  const otherRoot = pki.root('someone-else');
  const fake = await FakeDestination.start({ tls: serverTls([SVC], otherRoot) });
  t.teardown(() => fake.stop());
  const { failures } = failingWatch(t, fake.port, staticIdentity(myCreds));
  await until(() => failures.length > 0, 'the refused connection');
  t.match(failures[0]?.details, /certificate/i);
  t.equal(fake.requests.length, 0);
});

t.test('before our first certificate the watch waits, then connects once it is installed', async (t) => {
  const fake = await FakeDestination.start({ tls: serverTls([SVC]) });
  t.teardown(() => fake.stop());
  const identity = deferredIdentity();
  const { failures, watch, clock } = failingWatch(t, fake.port, identity);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(watch.state, 'waiting');
  t.same(clock.pending, [], 'waiting on the identity, not polling');
  identity.install(myCreds);
  await fake.getSender(AUTH).waitForStreams(1);
  t.same(failures, []);
});

t.test('credentials are rebuilt when the identity generation changes, and only then', async (t) => {
  const identity = deferredIdentity();
  const setup = controlChannelFactory(controlClient(4000, MTLS), identity, { plaintextOnLoopback: false });
  t.throws(() => setup(), NoCredentialsError);
  identity.install(myCreds);
  const first = setup();
  t.equal(setup(), first, 'same generation, same setup object');
  t.equal(first.options['grpc.ssl_target_name_override'], SVC, 'SNI is the configured server name');
  t.equal(first.target, 'ipv4:127.0.0.1:4000');
  identity.install({ ...myCreds, generation: 2 });
  const second = setup();
  t.not(second, first);
  t.equal(setup(), second);

  const plain = controlChannelFactory(controlClient(4000), identity);
  t.equal(plain(), plain(), 'plaintext setups never change');
  t.equal(plain().credentials._isSecure(), false);
  const loopback = controlChannelFactory(controlClient(4000, MTLS), identity);
  t.equal(loopback().credentials._isSecure(), false, 'a loopback address is plaintext by default');
});

t.test('a rotation gives new streams a new client and closes the old one when its streams end', async (t) => {
  const identity = deferredIdentity();
  identity.install(myCreds);
  const channel = new ControlChannel(controlChannelFactory(controlClient(4000, MTLS), identity, { plaintextOnLoopback: false }));
  t.teardown(() => channel.close());
  const a = channel.acquire();
  const b = channel.acquire();
  t.equal(a.client, b.client);
  identity.install({ ...myCreds, generation: 2 });
  const c = channel.acquire();
  t.not(c.client, a.client);
  t.equal(channel.clientCount, 2);
  a.release();
  t.equal(channel.clientCount, 2, 'still carrying a stream');
  b.release();
  t.equal(channel.clientCount, 1);
  c.release();
  t.equal(channel.clientCount, 1, 'the current client stays for the next stream');
});

t.test('a control-plane name is resolved by grpc-js and streams reach whichever address answers', async (t) => {
  const fake = await FakeDestination.start();
  t.teardown(() => fake.stop());
  const byName = { ...controlClient(fake.port), addr: { host: 'localhost', port: fake.port, hostKind: 'name' as const } };
  const channel = new ControlChannel(controlChannelFactory(byName, deferredIdentity()));
  const client = new DestinationClient({ channel, contextToken: '', backoff: BACKOFF, streamLimits: NO_LIMITS, idleTimeoutMs: 5000, clock: new TestClock() });
  t.teardown(() => (client.close(), channel.close()));
  fake.getSender(AUTH).initial = [{ add: { addrs: [{ addr: tcpAddress('10.0.0.1', 80) }] } }];
  const view = await client.get(AUTH).first();
  t.equal(view.endpoints.size, 1);
});

t.test('targets: names through the DNS resolver, IP literals directly', async (t) => {
  t.equal(controlTarget({ host: 'linkerd-dst-headless.linkerd.svc.cluster.local.', port: 8086, hostKind: 'name' }), 'dns:linkerd-dst-headless.linkerd.svc.cluster.local.:8086');
  t.equal(controlTarget({ host: '10.0.0.1', port: 8086, hostKind: 'ip' }), 'ipv4:10.0.0.1:8086');
  t.equal(controlTarget({ host: 'fd00::1', port: 8090, hostKind: 'ip' }), 'ipv6:[fd00::1]:8090');
});
