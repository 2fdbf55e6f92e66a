// Named targets (ingress mode): discovered by authority, shared and idle-evicted, profile-derived
// policies when the controller has none, and a DiscoveryRequiredError when nothing knows the name.
import t, { type Test } from 'tap';
import { forwardPolicy, defaultPolicyMeta, bareEndpoint } from '../../../../src/discovery/index.js';
import type { DestinationProfile, OutboundPolicyView, ProfileView, Subscription } from '../../../../src/discovery/index.js';
import { DiscoveryRequiredError } from '../../../../src/outbound/target/errors.js';
import { createOutboundTargets } from '../../../../src/outbound/target/target-cache.js';
import { socketAddr, type SocketAddr } from '../../../../src/transport/index.js';
import { TestClock } from '../../control/helpers/test-clock.js';
import { testConfig, testRuntime } from '../helpers/runtime.js';
import { TestPki } from '../../../support/pki.js';
import { testCredentials } from '../../../support/proxy-env.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const config = testConfig(testCredentials(pki).ca.certPem);
const WEB = { name: 'web.test.svc.cluster.local', port: 80 };
const WEB_ID = 'web.test.svc.cluster.local:80';

/** Sources the test answers by hand; they record what was asked. */
class Stubs {
  readonly watched: (SocketAddr | string)[] = [];
  readonly profiled: string[] = [];
  private readonly policy = new Map<string, (v: OutboundPolicyView) => void>();
  private readonly profile = new Map<string, (v: ProfileView) => void>();
  watch(target: SocketAddr | string, listener?: (v: OutboundPolicyView) => void): Subscription<OutboundPolicyView> {
    this.watched.push(target);
    if (typeof target === 'string' && listener !== undefined) this.policy.set(target, listener);
    return { current: () => undefined, first: () => new Promise(() => undefined), unsubscribe: () => undefined };
  }
  getProfile(target: string, listener: (v: ProfileView) => void): Subscription<ProfileView> {
    this.profiled.push(target);
    this.profile.set(target, listener);
    return { current: () => undefined, first: () => new Promise(() => undefined), unsubscribe: () => undefined };
  }
  get(): Subscription<never> {
    return { current: () => undefined, first: () => new Promise(() => undefined), unsubscribe: () => undefined };
  }
  publishPolicy(key: string, v: OutboundPolicyView): void {
    this.policy.get(key)?.(v);
  }
  publishProfile(key: string, v: ProfileView): void {
    this.profile.get(key)?.(v);
  }
}

function profile(p: Partial<DestinationProfile>): ProfileView {
  return {
    kind: 'profile',
    profile: { routes: [], retryBudget: undefined, dstOverrides: [], opaqueProtocol: false, fullyQualifiedName: undefined, endpoint: undefined, parentRef: undefined, profileRef: undefined, ...p },
  };
}

function setup(t: Test, wantedName = (n: string) => n.endsWith('.svc.cluster.local')) {
  const clock = new TestClock();
  const stubs = new Stubs();
  const rt = testRuntime({ config: { ...config.outbound, discoveryIdleTimeoutMs: 5000 } });
  const targets = createOutboundTargets({ rt, clock, policyClient: stubs, destinationClient: stubs, profiles: { source: stubs, wanted: () => false, wantedName } });
  t.teardown(() => targets.close());
  return { clock, stubs, targets };
}

t.test('a named target is watched by authority and profiled by name, shared, and evicted when unheld', async (t) => {
  const { clock, stubs, targets } = setup(t);
  const web = targets.getNamed(WEB);
  t.equal(targets.getNamed({ ...WEB }), web, 'one target per name:port');
  t.not(targets.getNamed({ ...WEB, port: 8080 }), web, 'another port is another target');
  t.same(stubs.watched.slice(0, 1), [WEB_ID], 'OutboundPolicies.Watch by authority');
  t.same(stubs.profiled.slice(0, 1), [WEB_ID], 'GetProfile by name:port');
  const policy = forwardPolicy(defaultPolicyMeta('svc'), bareEndpoint(socketAddr('10.0.0.5', 80)), { detectTimeoutMs: 1000, queue: config.outbound.tcpQueue });
  stubs.publishPolicy(WEB_ID, { kind: 'policy', policy });
  t.equal(web.current(), undefined, 'it waits for the profile answer too');
  stubs.publishProfile(WEB_ID, { kind: 'none', code: 'InvalidArgument', message: '' });
  t.equal(await web.ready(), policy, 'the controller policy');

  const release = web.hold();
  clock.advance(60_000);
  t.equal(targets.getNamed(WEB), web, 'held: kept');
  release();
  clock.advance(5000);
  t.not(targets.getNamed(WEB), web, 'unheld for the idle timeout: evicted');
});

t.test('no policy and no profile: DiscoveryRequiredError', async (t) => {
  const { stubs, targets } = setup(t, () => false);
  const nope = targets.getNamed({ name: 'nope.example.com', port: 80 });
  t.same(stubs.profiled, [], 'no GetProfile outside DESTINATION_PROFILE_SUFFIXES');
  stubs.publishPolicy('nope.example.com:80', { kind: 'fallback', code: 'NotFound', policy: undefined });
  const err = await nope.ready().catch((e: unknown) => e);
  t.ok(err instanceof DiscoveryRequiredError);
  t.equal((err as Error).message, 'ingress-mode routing requires discovery: nope.example.com:80');
});

t.test('no policy but a profile: its endpoint (default/endpoint), its Service (default/profile), else an empty policy', async (t) => {
  const { stubs, targets } = setup(t);
  const ep = { ...bareEndpoint(socketAddr('10.0.0.9', 8080)), metricLabels: { pod: 'p' } };
  const single = targets.getNamed({ name: 'pod.web.test.svc.cluster.local', port: 8080 });
  stubs.publishPolicy('pod.web.test.svc.cluster.local:8080', { kind: 'fallback', code: 'NotFound', policy: undefined });
  stubs.publishProfile('pod.web.test.svc.cluster.local:8080', profile({ endpoint: ep }));
  const p1 = await single.ready();
  t.equal(p1.meta.name, 'endpoint');
  t.same(p1.backends[0]?.dispatch, { kind: 'forward', endpoint: ep });

  const svc = targets.getNamed({ name: 'web.test.svc.cluster.local', port: 8080 });
  stubs.publishPolicy('web.test.svc.cluster.local:8080', { kind: 'fallback', code: 'Unimplemented', policy: undefined });
  stubs.publishProfile('web.test.svc.cluster.local:8080', profile({ fullyQualifiedName: 'web.test.svc.cluster.local' }));
  const p2 = await svc.ready();
  t.equal(p2.meta.name, 'profile');
  t.same(p2.backends[0]?.dispatch, { kind: 'balancer', path: 'web.test.svc.cluster.local:8080', load: { kind: 'peak-ewma', defaultRttMs: 30, decayMs: 10_000 } });

  const bare = targets.getNamed({ name: 'other.test.svc.cluster.local', port: 80 });
  stubs.publishPolicy('other.test.svc.cluster.local:80', { kind: 'fallback', code: 'NotFound', policy: undefined });
  stubs.publishProfile('other.test.svc.cluster.local:80', profile({}));
  const p3 = await bare.ready();
  t.equal(p3.meta.name, 'empty');
  t.same(p3.backends, []);
  t.equal(p3.protocol.kind === 'detect' && p3.protocol.http1.routes.length, 0, 'no routes');
});
