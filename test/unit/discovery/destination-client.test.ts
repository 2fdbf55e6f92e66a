// DestinationClient against a fake Destination service over real gRPC: updates, sharing, reconnects, backoff, eviction.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { FakeDestination } from '../../support/fake-destination.js';
import { tcpAddress } from '../../support/control-plane-codec.js';
import { deferredIdentity } from '../../support/deferred-identity.js';
import { controlChannelFactory } from '../../../src/control/channel.js';
import { ControlChannel } from '../../../src/control/control-channel.js';
import { DestinationClient } from '../../../src/discovery/destination-client.js';
import type { EndpointsView, ProfileView } from '../../../src/discovery/destination-types.js';
import { TestClock, driveUntil, until } from '../control/helpers/test-clock.js';
import { BACKOFF, NO_LIMITS, controlClient } from '../control/helpers/control-client.js';

const AUTH = 'legacy.mixed-env.svc.cluster.local:8080';
const CTX = '{"ns":"mixed-env", "nodeName":"vm-1", "external_workload":"legacy-vm-1"}\n';
const EW_ID = 'spiffe://root.linkerd.cluster.local/legacy-vm';

function ewAddr(ip: string) {
  return {
    addr: tcpAddress(ip, 8080),
    weight: 10000,
    metricLabels: { external_workload: 'legacy-vm-1', zone: '', zone_locality: 'unknown' },
    tlsIdentity: { uriLikeIdentity: { uri: EW_ID }, serverName: { name: 'legacy-vm.cluster.local' } },
    protocolHint: { h2: {} },
  };
}

function add(...ips: string[]) {
  return { add: { metricLabels: { service: 'legacy', namespace: 'mixed-env' }, addrs: ips.map(ewAddr) } };
}

async function setup(t: Test) {
  const fake = await FakeDestination.start();
  const clock = new TestClock();
  const channel = new ControlChannel(controlChannelFactory(controlClient(fake.port), deferredIdentity()));
  const client = new DestinationClient({ channel, contextToken: CTX, backoff: BACKOFF, streamLimits: NO_LIMITS, idleTimeoutMs: 5000, clock });
  t.teardown(async () => {
    client.close();
    channel.close();
    await fake.stop();
  });
  return { fake, clock, client };
}

t.test('an add then a remove reach the subscriber as two views with decoded endpoints', async (t) => {
  const { fake, client } = await setup(t);
  const sender = fake.getSender(AUTH);
  const views: EndpointsView[] = [];
  client.get(AUTH, (v) => views.push(v));
  await sender.waitForStreams(1);
  t.same(
    fake.requests.map((r) => [r.method, r.scheme, r.path, r.contextToken]),
    [['Get', 'k8s', AUTH, CTX]],
    'GetDestination carries the path and the context token verbatim',
  );
  sender.push(add('10.42.0.17'));
  await until(() => views.length === 1, 'the add');
  sender.push({ remove: { addrs: [tcpAddress('10.42.0.17', 8080)] } });
  await until(() => views.length === 2, 'the remove');

  const first = views[0];
  t.equal(first?.change.kind, 'reset', 'the first update of a stream is the whole set');
  const ep = first?.endpoints.get('10.42.0.17:8080');
  t.same(ep?.addr, { host: '10.42.0.17', port: 8080, family: 4 });
  t.same(ep?.tlsIdentity, { kind: 'uri', name: EW_ID, serverName: 'legacy-vm.cluster.local' });
  t.equal(ep?.protocolHint, 'h2');
  t.same(ep?.metricLabels, { service: 'legacy', namespace: 'mixed-env', external_workload: 'legacy-vm-1', zone: '', zone_locality: 'unknown' });
  t.same(views[1]?.change, { kind: 'remove', addrs: ['10.42.0.17:8080'] });
  t.equal(views[1]?.endpoints.size, 0);
  t.equal(first?.endpoints.size, 1, 'a published view is never mutated afterwards');
});

t.test('two subscribers to one authority share one stream; a late one starts from the current set', async (t) => {
  const { fake, client } = await setup(t);
  const sender = fake.getSender(AUTH);
  const a: EndpointsView[] = [];
  const b: EndpointsView[] = [];
  client.get(AUTH, (v) => a.push(v));
  await sender.waitForStreams(1);
  sender.push(add('10.0.0.1'));
  sender.push(add('10.0.0.2'));
  await until(() => a.length === 2, 'both adds');
  client.get(AUTH, (v) => b.push(v));
  t.equal(b.length, 1, 'the late subscriber gets the current view immediately');
  t.same(b[0]?.change.kind === 'reset' ? b[0].change.endpoints.map((e) => e.key).sort() : [], ['10.0.0.1:8080', '10.0.0.2:8080']);
  sender.push(add('10.0.0.3'));
  await until(() => a.length === 3 && b.length === 2, 'the third add at both');
  t.equal(fake.requests.length, 1, 'the fake saw one call');
  t.equal(sender.openStreams, 1);
  t.equal(client.watchCount, 1);
});

t.test('control plane restart: reconnect, last state kept during the outage, then reconciled', async (t) => {
  const { fake, clock, client } = await setup(t);
  const sender = fake.getSender(AUTH);
  // A controller sends its whole current state to each new stream.
  sender.initial = [add('10.0.0.1', '10.0.0.2')];
  const views: EndpointsView[] = [];
  const sub = client.get(AUTH, (v) => views.push(v));
  await until(() => views.length === 1, 'the initial state');

  // While disconnected the controller learns 10.0.0.2 went away.
  sender.initial = [add('10.0.0.1')];
  await fake.restart();
  await until(() => clock.pending.length > 0, 'a reconnect to be scheduled');
  t.equal(sub.current()?.endpoints.size, 2, 'subscribers still see the last state while disconnected');
  t.equal(views.length, 1, 'and no empty view was published');

  await driveUntil(clock, () => sender.opened >= 2, 'the second call');
  await until(() => views.length === 2, 'the state after reconnecting');
  t.same(views[1]?.change.kind, 'reset');
  t.same([...(views[1]?.endpoints.keys() ?? [])], ['10.0.0.1:8080'], 'an endpoint missing from the new stream is dropped');
});

t.test('backoff grows between failed reconnects and resets after a message', async (t) => {
  const { fake, clock, client } = await setup(t);
  const sender = fake.getSender(AUTH);
  sender.initial = [add('10.0.0.1')];
  const views: EndpointsView[] = [];
  client.get(AUTH, (v) => views.push(v));
  await until(() => views.length === 1, 'the first view');

  await fake.stop();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    await until(() => clock.pending.length > 0, `retry ${i + 1} to be scheduled`);
    delays.push(...clock.pending);
    clock.fireNext();
  }
  t.same(delays, [100, 200, 400, 800, 1600], 'exponential, capped at the max');
  t.equal(views.length, 1, 'failed attempts publish nothing');

  await fake.restart();
  await driveUntil(clock, () => views.length === 2, 'a view from the restarted fake');
  sender.fail(grpc.status.UNAVAILABLE);
  await until(() => clock.pending.length > 0, 'the retry after a healthy stream');
  t.same(clock.pending, [100], 'a message reset the backoff');
});

t.test('an unsubscribed authority is evicted after the idle timeout, closing its stream', async (t) => {
  const { fake, clock, client } = await setup(t);
  const sender = fake.getSender(AUTH);
  const sub = client.get(AUTH);
  await sender.waitForStreams(1);
  await until(() => sender.openStreams === 1, 'the open stream');
  sub.unsubscribe();
  t.same(clock.pending, [5000]);
  clock.advance(4999);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(sender.openStreams, 1, 'kept until the timeout');
  clock.advance(1);
  await until(() => sender.openStreams === 0, 'the stream to be cancelled');
  t.equal(client.watchCount, 0);
});

t.test('Get refused with InvalidArgument stops; NotFound is retried', async (t) => {
  const { fake, clock, client } = await setup(t);
  fake.getSender('10.0.0.1:80').rejectWith = { code: grpc.status.INVALID_ARGUMENT, details: 'IP queries not supported by Get API' };
  fake.getSender('gone.default.svc.cluster.local:80').rejectWith = { code: grpc.status.NOT_FOUND, details: 'no such service' };
  const refused: EndpointsView[] = [];
  client.get('10.0.0.1:80', (v) => refused.push(v));
  await until(() => refused.length === 1, 'the refusal');
  t.same(refused[0]?.change, { kind: 'rejected', code: 'InvalidArgument', message: 'IP queries not supported by Get API' });
  const missing: EndpointsView[] = [];
  client.get('gone.default.svc.cluster.local:80', (v) => missing.push(v));
  await until(() => clock.pending.length === 1, 'a retry for NotFound');
  t.same(clock.pending, [100], 'only the NotFound watch retries');
  t.equal(missing.length, 0);
});

t.test('GetProfile: profiles are delivered; InvalidArgument means "no profile"', async (t) => {
  const { fake, client } = await setup(t);
  fake.profileSender('10.42.0.17:8080').publish({
    endpoint: ewAddr('10.42.0.17'),
    opaqueProtocol: false,
    retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: { seconds: 10 } },
  });
  fake.profileSender('bad name:80').rejectWith = { code: grpc.status.INVALID_ARGUMENT, details: 'invalid authority' };
  const got = await client.getProfile('10.42.0.17:8080').first();
  if (got.kind !== 'profile') {
    t.fail('expected a profile');
    return;
  }
  t.equal(got.profile.endpoint?.tlsIdentity?.kind, 'uri');
  t.equal(got.profile.retryBudget?.ttlMs, 10_000);
  const none: ProfileView = await client.getProfile('bad name:80').first();
  t.same(none, { kind: 'none', code: 'InvalidArgument', message: 'invalid authority' });
  t.same(
    fake.requests.filter((r) => r.method === 'GetProfile').map((r) => r.contextToken),
    [CTX, CTX],
  );
});
