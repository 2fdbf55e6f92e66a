// Per-port policies from a fake policy controller: defaults first, Servers after, eager/lazy watches, outages.
import t from 'tap';
import { loadConfig } from '../../../../src/config/index.js';
import { createPortPolicies } from '../../../../src/inbound/policy/index.js';
import { silentLogger } from '../../../../src/log/logger.js';
import type { ClientConnection } from '../../../../src/policy/inbound/index.js';
import { TestPki } from '../../../support/pki.js';
import { testCredentials, testProxyEnv } from '../../../support/proxy-env.js';
import { driveUntil, until } from '../../control/helpers/test-clock.js';
import { detect, meshTlsIdentities, server, startHarness } from './helpers/harness.js';

const CLIENT_ID = 'spiffe://root.linkerd.cluster.local/ns/web/sa/client';
/** A meshed client on the pod network (not loopback: every Server admits localhost). */
const MESHED: ClientConnection = { clientIp: '10.42.0.7', tls: { kind: 'terminated', clientId: CLIENT_ID } };
const PLAIN: ClientConnection = { clientIp: '10.42.0.7', tls: { kind: 'none' } };

t.test('the default policy until the controller answers, then its Server; updates apply to new lookups', async (t) => {
  const h = await startHarness(t, { LINKERD2_PROXY_INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION: '3306' });
  const sender = h.fake.inbound(8080);
  await sender.waitForStreams(1);

  const before = h.policies.get(8080);
  t.equal(before.discovered, false);
  t.equal(before.current().policy.meta.name, 'all-unauthenticated', 'the configured default while the controller is silent');
  t.equal(before.current().policy.protocol.kind, 'detect');
  t.ok(before.current().authorizeTcp(PLAIN).allowed, 'connections are not blocked on discovery');
  t.equal(h.policies.get(3306).current().policy.protocol.kind, 'opaque', 'the opaque variant on an opaque port');

  sender.publish(server({ name: 'web-tcp' }));
  await until(() => before.discovered, 'the first Server');
  const denied = h.policies.get(8080).current();
  t.same(denied.policy.meta, { group: 'policy.linkerd.io', kind: 'server', name: 'web-tcp' });
  t.notOk(denied.authorizeTcp(MESHED).allowed, 'a Server without authorizations denies the client');
  t.ok(denied.authorizeTcp({ clientIp: '127.0.0.1', tls: { kind: 'none' } }).allowed, 'localhost is always admitted');

  sender.publish(server({ name: 'web-tcp', authorizations: [meshTlsIdentities('web-clients', [CLIENT_ID])] }));
  await until(() => h.policies.get(8080).current() !== denied, 'the update');
  const admitted = h.policies.get(8080).current();
  const verdict = admitted.authorizeTcp(MESHED);
  t.ok(verdict.allowed, 'the SPIFFE id is admitted by the MeshTLS authorization');
  t.equal(verdict.allowed ? verdict.authz.meta.name : '', 'web-clients');
  t.notOk(admitted.authorizeTcp(PLAIN).allowed, 'plaintext clients are still denied');
  t.notOk(admitted.authorizeTcp({ ...MESHED, tls: { kind: 'terminated', clientId: 'spiffe://root.linkerd.cluster.local/ns/x/sa/other' } }).allowed);
  t.equal(h.fake.inboundRequests.filter((r) => r.port === 8080).length, 1, 'one WatchPort stream carried both answers');
  t.equal(h.policies.get(8080), before, 'one shared handle per port');
});

t.test('an invalid Server becomes the invalid policy, with a warning naming the port and the reason', async (t) => {
  const h = await startHarness(t);
  h.fake.inbound(9090).publish({ labels: { name: 'broken' } });
  const handle = h.policies.get(9090);
  const release = handle.hold();
  t.teardown(release);
  await until(() => handle.discovered, 'the invalid Server');
  const p = handle.current();
  t.same(p.policy.meta, { group: '', kind: 'default', name: 'invalid' });
  t.notOk(p.authorizeTcp(PLAIN).allowed);
  t.notOk(p.authorizeTcp({ clientIp: '127.0.0.1', tls: { kind: 'none' } }).allowed, 'not even localhost');
  const warning = h.log.lines.find((l) => l.level === 'warn');
  t.equal(warning?.fields?.port, 9090);
  t.match(String(warning?.fields?.error), /protocol/);

  h.fake.inbound(9090).publish(server({ name: 'fixed', protocol: detect() }));
  await until(() => handle.current().policy.meta.name === 'fixed', 'the corrected Server');
});

t.test('eager ports are watched at startup and never idle out', async (t) => {
  const h = await startHarness(t, { LINKERD2_PROXY_INBOUND_PORTS: '8080,9000' }, (fake) => {
    fake.inbound(8080).publish(server({ name: 'eager' }));
  });
  await h.fake.inboundLog.waitFor(2);
  t.same(h.fake.inboundRequests.map((r) => [r.method, r.port]).sort(), [['WatchPort', 8080], ['WatchPort', 9000]], 'before any get()');
  t.equal(h.policies.size, 2);
  const idle = h.config.inbound.policy.cacheMaxIdleAgeMs;
  t.same(h.clock.pending.filter((ms) => ms === idle), [], 'no idle countdown for eager ports');
  await until(() => h.policies.get(8080).discovered, 'the eager answer');
  h.clock.advance(idle * 3);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(h.fake.inbound(8080).openStreams, 1);
  t.equal(h.fake.inbound(9000).openStreams, 1);
  t.equal(h.fake.inboundRequests.length, 2, 'no new calls');
});

t.test('lazy ports: watched on first get, kept while held, evicted after the idle timeout', async (t) => {
  const h = await startHarness(t, { LINKERD2_PROXY_INBOUND_DISCOVERY_IDLE_TIMEOUT: '30s' });
  const idle = h.config.inbound.policy.cacheMaxIdleAgeMs;
  t.equal(idle, 30_000);
  const lazy = h.fake.inbound(7070);
  lazy.publish(server({ name: 'lazy', protocol: detect() }));
  await h.fake.inboundLog.waitFor(1);
  t.notOk(h.fake.inboundRequests.some((r) => r.port === 7070), 'not watched before use');

  const handle = h.policies.get(7070);
  await lazy.waitForStreams(1);
  await until(() => handle.current().policy.meta.name === 'lazy', 'the lazy answer (read without holding)');

  const release = handle.hold();
  t.same(h.clock.pending.filter((ms) => ms === idle), [], 'held: no idle countdown');
  h.clock.advance(idle * 2);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(lazy.openStreams, 1, 'held ports keep their watch');

  release();
  release();
  t.same(h.clock.pending.filter((ms) => ms === idle), [idle], 'the countdown starts when the last holder leaves');
  h.clock.advance(idle);
  await until(() => lazy.openStreams === 0, 'the idle watch to close');

  // A later connection starts a new watch; until it answers the last known policy stays.
  lazy.initial = [];
  const again = h.policies.get(7070);
  await lazy.waitForStreams(2);
  t.equal(again.current().policy.meta.name, 'lazy', 'never back to the default');
  lazy.publish(server({ name: 'lazy-v2', protocol: detect() }));
  await until(() => again.current().policy.meta.name === 'lazy-v2', 'the new watch answer');
});

t.test('a control-plane restart keeps the last policy during the outage', async (t) => {
  const h = await startHarness(t);
  const sender = h.fake.inbound(8080);
  sender.publish(server({ name: 'before-restart', authorizations: [meshTlsIdentities('web-clients', [CLIENT_ID])] }));
  const handle = h.policies.get(8080);
  await until(() => handle.discovered, 'the first Server');
  const seen: string[] = [];
  const unsubscribe = handle.subscribe((p) => seen.push(p.policy.meta.name));
  t.teardown(unsubscribe);

  sender.initial = [];
  await h.fake.restart();
  await driveUntil(h.clock, () => sender.opened >= 2, 'the reconnection');
  t.equal(handle.current().policy.meta.name, 'before-restart', 'the last policy stays while the controller is silent');
  t.ok(handle.current().authorizeTcp(MESHED).allowed);
  t.same(seen, [], 'no change was published');

  sender.publish(server({ name: 'after-restart' }));
  await until(() => seen.length === 1, 'the restarted controller answer');
  t.same(seen, ['after-restart']);
});

t.test('without a client every port has its default policy', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const { ca } = testCredentials(pki);
  const { config } = loadConfig(
    testProxyEnv(ca.certPem, {
      LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'cluster-authenticated',
      LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: '10.0.0.0/8',
      LINKERD2_PROXY_INBOUND_PORTS_DISABLE_PROTOCOL_DETECTION: '25',
    }),
  );
  const policies = createPortPolicies({ inbound: config.inbound, log: silentLogger });
  t.teardown(() => policies.close());
  const web = policies.get(8080);
  t.equal(web.current().policy.meta.name, 'cluster-authenticated');
  t.equal(web.current().policy.protocol.kind, 'detect');
  t.equal(policies.get(25).current().policy.protocol.kind, 'opaque');
  t.ok(web.current().authorizeTcp({ clientIp: '10.1.1.1', tls: { kind: 'terminated', clientId: 'web.ns.serviceaccount.identity.linkerd.cluster.local' } }).allowed);
  t.notOk(web.current().authorizeTcp(PLAIN).allowed, 'cluster-authenticated requires mesh TLS');
  t.notOk(web.current().authorizeTcp({ clientIp: '192.168.1.1', tls: { kind: 'terminated', clientId: 'web.ns.serviceaccount.identity.linkerd.cluster.local' } }).allowed, 'outside the cluster networks');
  const release = web.hold();
  release();
  t.equal(web.discovered, false);
});
