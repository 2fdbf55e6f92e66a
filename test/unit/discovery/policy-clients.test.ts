// Inbound and outbound policy clients against a fake policy controller over real gRPC.
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { FakePolicy, type FakePolicyOptions } from '../../support/fake-policy.js';
import { duration, ipNetwork } from '../../support/control-plane-codec.js';
import { deferredIdentity } from '../../support/deferred-identity.js';
import { controlChannelFactory } from '../../../src/control/channel.js';
import { ControlChannel } from '../../../src/control/control-channel.js';
import { InboundPolicyClient, type InboundPolicyView } from '../../../src/discovery/inbound-policy-client.js';
import { OutboundPolicyClient } from '../../../src/discovery/outbound-policy-client.js';
import type { OutboundPolicyView } from '../../../src/discovery/outbound-policy-types.js';
import { BACKOFF, NO_LIMITS, controlClient } from '../control/helpers/control-client.js';
import { TestClock, until } from '../control/helpers/test-clock.js';

const WORKLOAD = '{"ns":"mixed-env", "external_workload":"legacy-vm-1"}\n';
const SYNTH = { detectTimeoutMs: 10_000, queue: { capacity: 10_000, failfastTimeoutMs: 3000 } };

async function setup(t: Test, fakeOpts: FakePolicyOptions = {}) {
  const fake = await FakePolicy.start(fakeOpts);
  const clock = new TestClock();
  const channel = new ControlChannel(controlChannelFactory(controlClient(fake.port), deferredIdentity()));
  const common = { channel, workload: WORKLOAD, backoff: BACKOFF, streamLimits: NO_LIMITS, clock };
  const inbound = new InboundPolicyClient({ ...common, idleTimeoutMs: 90_000, retainPort: (p) => p === 8080 });
  const outbound = new OutboundPolicyClient({ ...common, idleTimeoutMs: 5000, synthesize: SYNTH });
  t.teardown(async () => {
    inbound.close();
    outbound.close();
    channel.close();
    await fake.stop();
  });
  return { fake, clock, inbound, outbound };
}

/** An all-unauthenticated Server as the policy controller builds for a port with no Server resource. */
function defaultServer(timeoutMs: number): Record<string, unknown> {
  return {
    protocol: { detect: { timeout: duration(timeoutMs), httpRoutes: [] } },
    authorizations: [
      {
        networks: [{ net: ipNetwork('0.0.0.0/0') }, { net: ipNetwork('::/0') }],
        authentication: { unauthenticated: {} },
        metadata: { default: 'all-unauthenticated' },
      },
    ],
    labels: { group: '', kind: 'default', name: 'all-unauthenticated' },
  };
}

t.test('WatchPort: Server messages decode to policies; InvalidArgument stops the watch and keeps the last one', async (t) => {
  const { fake, clock, inbound } = await setup(t);
  const port = fake.inbound(8080);
  port.publish(defaultServer(10_000));
  const views: InboundPolicyView[] = [];
  inbound.watchPort(8080, (v) => views.push(v));
  await until(() => views.length === 1, 'the first policy');
  t.same(
    fake.inboundRequests.map((r) => [r.method, r.workload, r.port]),
    [['WatchPort', WORKLOAD, 8080]],
  );
  const first = views[0];
  if (first?.kind !== 'server') {
    t.fail('expected a server policy');
    return;
  }
  t.equal(first.policy.meta.name, 'all-unauthenticated');
  t.equal(first.policy.protocol.kind === 'detect' ? first.policy.protocol.timeoutMs : 0, 10_000);

  port.publish(defaultServer(5000));
  await until(() => views.length === 2, 'the replacement');
  port.fail(grpc.status.INVALID_ARGUMENT, 'invalid workload');
  await new Promise((r) => setTimeout(r, 100));
  t.same(clock.pending, [], 'not retried');
  const sub = inbound.watchPort(8080);
  const kept = sub.current();
  t.equal(kept?.kind === 'server' && kept.policy.protocol.kind === 'detect' ? kept.policy.protocol.timeoutMs : 0, 5000, 'the last policy stays');
  t.equal(fake.inboundRequests.length, 1, 'no new call');
});

t.test('WatchPort: an unusable Server becomes the invalid policy; other errors are retried', async (t) => {
  const { fake, clock, inbound } = await setup(t);
  fake.inbound(9090).publish({ labels: { name: 'broken' } });
  const view = await inbound.watchPort(9090).first();
  t.equal(view.kind, 'invalid');
  t.equal(view.policy.meta.name, 'invalid');
  t.equal(view.policy.protocol.kind === 'detect' ? view.policy.protocol.tcpAuthorizations.length : -1, 0, 'denies all connections');

  fake.inbound(7070).rejectWith = { code: grpc.status.NOT_FOUND, details: 'unknown server' };
  inbound.watchPort(7070);
  await until(() => clock.pending.includes(100), 'a retry for NotFound');
});

t.test('eager ports are never evicted; lazily watched ports idle out', async (t) => {
  const { fake, clock, inbound } = await setup(t);
  inbound.ensure(8080);
  inbound.watchPort(4191).unsubscribe();
  await fake.inbound(8080).waitForStreams(1);
  await fake.inbound(4191).waitForStreams(1);
  t.same(clock.pending, [90_000], 'only the lazy port counts down');
  clock.advance(90_000);
  await until(() => fake.inbound(4191).openStreams === 0, 'the lazy port stream to close');
  t.equal(fake.inbound(8080).openStreams, 1);
  t.equal(inbound.watchCount, 1);
});

t.test('Watch: a Service policy is decoded; the request names the workload and the address', async (t) => {
  const { fake, outbound } = await setup(t);
  const backend = {
    metadata: { resource: { group: 'core', kind: 'Service', name: 'web', namespace: 'emojivoto', port: 80 } },
    queue: { capacity: 100, failfastTimeout: duration(3000) },
    balancer: { discovery: { dst: { path: 'web.emojivoto.svc.cluster.local:80' } }, peakEwma: { defaultRtt: duration(30), decay: duration(10_000) } },
  };
  fake.outbound('10.96.0.10:80').publish({
    metadata: backend.metadata,
    protocol: { opaque: { routes: [{ metadata: { default: 'opaq' }, rules: [{ backends: { firstAvailable: { backends: [{ backend }] } } }] }] } },
  });
  const view = await outbound.watch({ host: '10.96.0.10', port: 80, family: 4 }).first();
  if (view.kind !== 'policy') {
    t.fail(`expected a policy, got ${view.kind}`);
    return;
  }
  t.equal(view.policy.protocol.kind, 'opaque');
  t.same(view.policy.backends[0]?.dispatch, { kind: 'balancer', path: 'web.emojivoto.svc.cluster.local:80', load: { kind: 'peak-ewma', defaultRttMs: 30, decayMs: 10_000 } });
  t.match(fake.outboundRequests[0], { method: 'Watch', sourceWorkload: WORKLOAD, target: '10.96.0.10:80', authority: undefined });
});

t.test('Watch NotFound: the synthesised forward-to-original-destination policy, not retried', async (t) => {
  const { fake, clock, outbound } = await setup(t);
  fake.outbound('[fd00::5]:8080').rejectWith = { code: grpc.status.NOT_FOUND, details: 'no policy' };
  const views: OutboundPolicyView[] = [];
  outbound.watch({ host: 'fd00::5', port: 8080, family: 6 }, (v) => views.push(v));
  await until(() => views.length === 1, 'the fallback');
  const v = views[0];
  if (v?.kind !== 'fallback') {
    t.fail('expected a fallback');
    return;
  }
  t.equal(v.code, 'NotFound');
  t.equal(v.policy?.meta.name, 'fallback');
  t.equal(v.policy?.protocol.kind, 'detect');
  const dispatch = v.policy?.backends[0]?.dispatch;
  t.equal(dispatch?.kind === 'forward' ? dispatch.endpoint.key : undefined, '[fd00::5]:8080');
  t.same(v.policy?.backends[0]?.queue, SYNTH.queue);
  await new Promise((r) => setTimeout(r, 50));
  t.same(clock.pending, [], 'no retry loop');
  t.equal(fake.outboundRequests.length, 1);
});

t.test('Watch on a control plane without the API (Unimplemented) also falls back', async (t) => {
  const { outbound } = await setup(t, { outbound: false });
  const v = await outbound.watch({ host: '10.1.1.1', port: 443, family: 4 }).first();
  t.equal(v.kind, 'fallback');
  t.equal(v.kind === 'fallback' ? v.code : '', 'Unimplemented');
});

t.test('Watch: InvalidArgument is a discovery error; an unusable policy becomes the invalid policy', async (t) => {
  const { fake, outbound } = await setup(t);
  fake.outbound('10.0.0.9:80').rejectWith = { code: grpc.status.INVALID_ARGUMENT, details: 'bad workload' };
  t.same(await outbound.watch({ host: '10.0.0.9', port: 80, family: 4 }).first(), { kind: 'rejected', code: 'InvalidArgument', message: 'bad workload' });
  fake.outbound('10.0.0.8:80').publish({ protocol: { opaque: {} } });
  const invalid = await outbound.watch({ host: '10.0.0.8', port: 80, family: 4 }).first();
  t.equal(invalid.kind, 'invalid');
  t.equal(invalid.kind === 'invalid' ? invalid.policy.meta.name : '', 'invalid');
});

t.test('Watch by authority (ingress mode)', async (t) => {
  const { fake, outbound } = await setup(t);
  fake.outbound('web.emojivoto.svc.cluster.local:80').rejectWith = { code: grpc.status.NOT_FOUND, details: 'x' };
  const v = await outbound.watch('web.emojivoto.svc.cluster.local:80').first();
  t.same(v, { kind: 'fallback', code: 'NotFound', policy: undefined });
  t.equal(fake.outboundRequests[0]?.authority, 'web.emojivoto.svc.cluster.local:80');
});
