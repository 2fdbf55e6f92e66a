// Outbound targets: sharing and idle eviction, synthesized forwards, policy updates and backend dispatcher lifecycles.
import t from 'tap';
import { Endpoint, FailFastError } from '../../../src/balance/index.js';
import { balancePolicy, bareEndpoint, defaultPolicyMeta, forwardPolicy } from '../../../src/discovery/index.js';
import type { DestinationEndpoint, EndpointsView, OutboundPolicy, OutboundPolicyView, Subscription } from '../../../src/discovery/index.js';
import { BackendFailedError, DiscoveryRejectedError, TargetClosedError } from '../../../src/outbound/target/errors.js';
import { createOutboundTargets } from '../../../src/outbound/target/target-cache.js';
import { socketAddr, type SocketAddr } from '../../../src/transport/index.js';
import { FakePolicy } from '../../support/fake-policy.js';
import { TestPki } from '../../support/pki.js';
import { testCredentials } from '../../support/proxy-env.js';
import { staticIdentity } from '../../support/static-identity.js';
import { controlPlaneClients } from '../../../src/discovery/clients.js';
import { TestClock, until } from '../control/helpers/test-clock.js';
import { testConfig, testRuntime } from './helpers/runtime.js';
import { forwardBackend, opaquePolicy, weightedAddr } from '../../support/outbound-wire.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);
const config = testConfig(ca.certPem);
const A = socketAddr('10.0.0.1', 80);
const B = socketAddr('10.0.0.2', 80);
const SYNTH = { detectTimeoutMs: 10_000, queue: { capacity: 100, failfastTimeoutMs: 3000 } };
const LOAD = { kind: 'peak-ewma', defaultRttMs: 30, decayMs: 10_000 } as const;
const META = defaultPolicyMeta('test');

/** A policy source the test drives by hand. */
class StubPolicies {
  private readonly listeners = new Map<string, (v: OutboundPolicyView) => void>();
  watch(target: SocketAddr | string, listener?: (v: OutboundPolicyView) => void): Subscription<OutboundPolicyView> {
    const key = typeof target === 'string' ? target : `${target.host}:${target.port}`;
    if (listener !== undefined) this.listeners.set(key, listener);
    return { current: () => undefined, first: () => new Promise(() => undefined), unsubscribe: () => void this.listeners.delete(key) };
  }
  publish(key: string, view: OutboundPolicyView): void {
    this.listeners.get(key)?.(view);
  }
}

/** An endpoint source that records who subscribes to what. */
class StubEndpoints {
  readonly active = new Map<string, number>();
  private readonly listeners = new Map<string, Set<(v: EndpointsView) => void>>();
  get(path: string, listener?: (v: EndpointsView) => void): Subscription<EndpointsView> {
    const set = this.listeners.get(path) ?? new Set();
    this.listeners.set(path, set);
    if (listener !== undefined) set.add(listener);
    this.active.set(path, (this.active.get(path) ?? 0) + 1);
    let live = true;
    return {
      current: () => undefined,
      first: () => new Promise(() => undefined),
      unsubscribe: () => {
        if (!live) return;
        live = false;
        if (listener !== undefined) set.delete(listener);
        this.active.set(path, (this.active.get(path) ?? 1) - 1);
      },
    };
  }
  reset(path: string, endpoints: DestinationEndpoint[]): void {
    const view: EndpointsView = { endpoints: new Map(endpoints.map((e) => [e.key, e])), exists: true, change: { kind: 'reset', endpoints } };
    for (const l of this.listeners.get(path) ?? []) l(view);
  }
}

const policyView = (policy: OutboundPolicy): OutboundPolicyView => ({ kind: 'policy', policy });

t.test('targets are shared per original destination and evicted once unheld for the idle timeout', async (t) => {
  const clock = new TestClock();
  const rt = testRuntime({ config: { ...config.outbound, discoveryIdleTimeoutMs: 5000 } });
  const targets = createOutboundTargets({ rt, clock });
  t.teardown(() => targets.close());
  const a = targets.get(A);
  t.equal(targets.get(socketAddr('10.0.0.1', 80)), a, 'one target per address');
  const b = targets.get(B);
  t.not(b, a);

  const release = a.hold();
  clock.advance(60_000);
  t.equal(targets.get(A), a, 'a held target is kept however long');
  t.not(targets.get(B), b, 'an unheld one was evicted');
  await t.rejects(b.ready(), TargetClosedError, 'and is closed');
  release();
  release();
  clock.advance(4999);
  t.equal(targets.get(A), a, 'kept until the idle timeout has passed');
  clock.advance(1);
  const again = targets.get(A);
  t.not(again, a, 'replaced after it');
  t.equal((await again.ready()).meta.name, 'fallback');
  t.equal(targets.size, 1, 'the unheld B re-created earlier idled out too');
});

t.test('without discovery every target forwards to its original destination', async (t) => {
  const rt = testRuntime({ config: config.outbound });
  const targets = createOutboundTargets({ rt });
  t.teardown(() => targets.close());
  const target = targets.get(A);
  const policy = await target.ready();
  t.equal(policy.meta.name, 'fallback');
  t.equal(policy.protocol.kind, 'detect');
  const backend = policy.backends[0];
  if (backend === undefined) throw new Error('no backend');
  t.same(backend.queue, config.outbound.tcpQueue, 'the outbound TCP queue');
  const d = target.backend(backend);
  t.equal(target.backend(backend), d, 'one dispatcher per backend');
  const ep = d.pick();
  t.ok(ep instanceof Endpoint, 'a forward pick is immediate');
  t.same((ep as Endpoint<DestinationEndpoint>).metadata.addr, A);
  t.equal((ep as Endpoint<DestinationEndpoint>).metadata.tlsIdentity, undefined, 'no identity: plaintext');
});

t.test('policy updates keep unchanged dispatchers and retire the others once their waiting picks are answered', async (t) => {
  const policies = new StubPolicies();
  const endpoints = new StubEndpoints();
  const rt = testRuntime({ config: config.outbound });
  const targets = createOutboundTargets({ rt, policyClient: policies, destinationClient: endpoints });
  t.teardown(() => targets.close());
  const target = targets.get(A);
  const seen: string[] = [];
  target.subscribe((p) => seen.push(p.backends[0]?.dispatch.kind === 'balancer' ? p.backends[0].dispatch.path : '?'));

  const first = balancePolicy(META, 'a.ns.svc.cluster.local:80', LOAD, SYNTH);
  policies.publish('10.0.0.1:80', policyView(first));
  t.equal((await target.ready()).backends[0], first.backends[0]);
  t.same([...endpoints.active], [['a.ns.svc.cluster.local:80', 1]], 'discovery starts with the policy, before any connection');
  const da = target.backend(first.backends[0]!);
  const waiting = da.pick();
  t.ok(waiting instanceof Promise, 'no endpoints yet: the pick waits');

  const same = balancePolicy(META, 'a.ns.svc.cluster.local:80', LOAD, SYNTH);
  policies.publish('10.0.0.1:80', policyView(same));
  t.equal(target.backend(same.backends[0]!), da, 'a structurally equal backend keeps its dispatcher');
  t.equal(endpoints.active.get('a.ns.svc.cluster.local:80'), 1, 'and its discovery stream');

  const other = balancePolicy(META, 'b.ns.svc.cluster.local:80', LOAD, SYNTH);
  policies.publish('10.0.0.1:80', policyView(other));
  t.equal(target.current(), other);
  t.equal(endpoints.active.get('b.ns.svc.cluster.local:80'), 1, 'the new backend is discovered');
  t.equal(endpoints.active.get('a.ns.svc.cluster.local:80'), 1, 'the old one stays while a pick waits on it');
  endpoints.reset('a.ns.svc.cluster.local:80', [bareEndpoint(socketAddr('10.1.0.1', 8080))]);
  const ep = await waiting;
  t.same(ep.metadata.addr, socketAddr('10.1.0.1', 8080), 'the waiting pick finished on the retired dispatcher');
  await new Promise((r) => setImmediate(r));
  t.equal(endpoints.active.get('a.ns.svc.cluster.local:80'), 0, 'then it closed');

  policies.publish('10.0.0.1:80', policyView(first));
  t.equal(endpoints.active.get('b.ns.svc.cluster.local:80'), 0, 'a retired dispatcher nobody waits on closes at once');
  t.equal(endpoints.active.get('a.ns.svc.cluster.local:80'), 1, 'a returning backend is discovered afresh');
  t.same(seen, ['a.ns.svc.cluster.local:80', 'a.ns.svc.cluster.local:80', 'b.ns.svc.cluster.local:80', 'a.ns.svc.cluster.local:80'], 'subscribers see every policy');
});

t.test('waiting picks fail fast on the backend queue timeout; fail backends and refused targets fail typed', async (t) => {
  const clock = new TestClock();
  const policies = new StubPolicies();
  const endpoints = new StubEndpoints();
  const rt = testRuntime({ config: config.outbound });
  const targets = createOutboundTargets({ rt, policyClient: policies, destinationClient: endpoints, clock });
  t.teardown(() => targets.close());

  const target = targets.get(A);
  const p = balancePolicy(META, 'empty.ns.svc.cluster.local:80', LOAD, { ...SYNTH, queue: { capacity: 1, failfastTimeoutMs: 500 } });
  policies.publish('10.0.0.1:80', policyView(p));
  const d = target.backend(p.backends[0]!);
  const first = d.pick();
  await t.rejects(Promise.resolve(d.pick()), { code: 'loadshed' }, 'capacity 1: a second waiter is shed');
  clock.advance(500);
  await t.rejects(Promise.resolve(first), FailFastError, 'the queued pick fails fast after the backend failfast timeout');

  const failing = forwardPolicy(META, bareEndpoint(B), SYNTH);
  const failBackend = { ...failing.backends[0]!, dispatch: { kind: 'fail', message: 'no dispatcher here' } } as const;
  await t.rejects(Promise.resolve(target.backend(failBackend).pick()), new BackendFailedError('no dispatcher here'));

  const refused = targets.get(B);
  policies.publish('10.0.0.2:80', { kind: 'rejected', code: 'InvalidArgument', message: 'nope' });
  await t.rejects(refused.ready(), DiscoveryRejectedError);
});

t.test('failure accrual from the policy ejects an endpoint after consecutive failures', async (t) => {
  const clock = new TestClock();
  const policies = new StubPolicies();
  const endpoints = new StubEndpoints();
  const rt = testRuntime({ config: config.outbound });
  const targets = createOutboundTargets({ rt, policyClient: policies, destinationClient: endpoints, clock });
  t.teardown(() => targets.close());
  const base = balancePolicy(META, 'svc.ns.svc.cluster.local:80', LOAD, SYNTH);
  if (base.protocol.kind !== 'detect') throw new Error('expected detect');
  const accrual = { kind: 'consecutive-failures', maxFailures: 2, backoff: { minMs: 1000, maxMs: 10_000, jitter: 0, respectRetryAfterHint: false }, ejection: undefined } as const;
  const http = { ...base.protocol.http1, failureAccrual: accrual };
  const policy: OutboundPolicy = { ...base, protocol: { ...base.protocol, http1: http, http2: http } };
  const target = targets.get(A);
  policies.publish('10.0.0.1:80', policyView(policy));
  endpoints.reset('svc.ns.svc.cluster.local:80', [bareEndpoint(socketAddr('10.1.0.1', 8080))]);
  const d = target.backend(policy.backends[0]!);
  const ep = d.pick() as Endpoint<DestinationEndpoint>;
  ep.recordOutcome(false);
  t.ok(d.pick() instanceof Endpoint, 'one failure: still in rotation');
  ep.recordOutcome(false);
  const waiting = d.pick();
  t.ok(waiting instanceof Promise, 'two in a row: ejected, picks wait');
  clock.advance(1000);
  t.same((await waiting).metadata.addr, socketAddr('10.1.0.1', 8080), 'after the backoff it is probed again');
});

t.test('with the policy controller, an evicted target ends its watch', async (t) => {
  const policy = await FakePolicy.start();
  t.teardown(() => policy.stop());
  const cfg = testConfig(ca.certPem, {
    LINKERD2_PROXY_POLICY_SVC_ADDR: `127.0.0.1:${policy.port}`,
    LINKERD2_PROXY_OUTBOUND_DISCOVERY_IDLE_TIMEOUT: '100ms',
  });
  const clients = controlPlaneClients(cfg, staticIdentity(creds));
  t.teardown(() => clients.close());
  const targets = createOutboundTargets({ rt: testRuntime({ config: cfg.outbound }), policyClient: clients.outboundPolicy, destinationClient: clients.destination });
  t.teardown(() => targets.close());
  const sender = policy.outbound('10.0.0.1:80');
  sender.publish(opaquePolicy([forwardBackend(weightedAddr('10.0.0.1', 80))]));

  const target = targets.get(A);
  await sender.waitForStreams(1);
  t.equal(sender.openStreams, 1, 'the watch is open while the target lives');
  await until(() => targets.size === 0, 'the target to idle out');
  t.equal((await target.ready().catch(() => undefined))?.meta.name, undefined, 'the evicted target is closed');
  await until(() => sender.openStreams === 0, 'the watch to close after the client idle timeout');
  const fresh = targets.get(A);
  t.not(fresh, target);
  t.equal((await fresh.ready()).protocol.kind, 'opaque', 'a new connection starts a new target with the policy');
});
