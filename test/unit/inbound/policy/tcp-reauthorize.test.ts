// Open TCP connections are re-authorized on every policy update: newly denied ones are reset and counted.
import { once } from 'node:events';
import net from 'node:net';
import t, { type Test } from 'tap';
import { enforceTcpAuthorization, TcpTerminateMetrics, type EnforcedTcpConnection } from '../../../../src/inbound/policy/index.js';
import type { PortPolicy } from '../../../../src/inbound/context.js';
import { createMetrics, type TlsAccept } from '../../../../src/metrics/index.js';
import { compileServerPolicy, DENY_POLICY, defaultServerPolicy, type CompiledServerPolicy } from '../../../../src/policy/inbound/index.js';
import type { SocketAddr } from '../../../../src/transport/index.js';
import { closeReason } from '../../../support/net.js';
import { until } from '../../control/helpers/test-clock.js';
import { detect, meshTlsIdentities, server, startHarness } from './helpers/harness.js';

const ALICE = 'spiffe://root.linkerd.cluster.local/ns/web/sa/alice';
const BOB = 'spiffe://root.linkerd.cluster.local/ns/web/sa/bob';
const TARGET: SocketAddr = { host: '10.0.0.5', port: 8080, family: 4 };
const BUILD = { version: 'test', gitSha: 'x', profile: 'test', vendor: 'test', date: '2026-01-01' };

interface Pair {
  readonly client: net.Socket;
  /** The proxy's side: what enforcement watches and resets. */
  readonly accepted: net.Socket;
}

/** A real loopback connection; both ends are destroyed at teardown. */
async function socketPair(t: Test): Promise<Pair> {
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const acceptedP = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const [[accepted]] = await Promise.all([acceptedP, once(client, 'connect')]);
  listener.close();
  accepted.on('error', () => undefined);
  t.teardown(() => {
    client.destroy();
    accepted.destroy();
  });
  return { client, accepted };
}

/**
 * A meshed client seen from the pod network (the socket itself is loopback, but loopback peers
 * are always admitted by the implicit localhost authorization).
 */
function meshed(accepted: net.Socket, clientId: string): EnforcedTcpConnection {
  return { socket: accepted, clientIp: '10.42.0.7', tls: { kind: 'terminated', clientId } };
}

function tlsOf(id: string): TlsAccept {
  return { kind: 'established', clientId: id };
}

t.test('an update that denies an open connection resets it and counts the termination; allowed ones stay', async (t) => {
  const h = await startHarness(t, {}, (fake) => {
    fake.inbound(8080).publish(server({ name: 'web-tcp', authorizations: [meshTlsIdentities('web-clients', [ALICE, BOB])] }));
  });
  const handle = h.policies.get(8080);
  await until(() => handle.discovered, 'the first Server');
  const metrics = createMetrics({ buildInfo: BUILD, processMetrics: false });
  const terminate = new TcpTerminateMetrics(metrics);

  const alice = await socketPair(t);
  const bob = await socketPair(t);
  const terminated: string[] = [];
  for (const [pair, id] of [
    [alice, ALICE],
    [bob, BOB],
  ] as const) {
    const conn = meshed(pair.accepted, id);
    t.ok(handle.current().authorizeTcp(conn).allowed, `${id} admitted at accept`);
    enforceTcpAuthorization(conn, handle, {
      log: h.log,
      onTerminate: (p) => {
        terminated.push(id);
        terminate.terminated(TARGET, p.policy.meta, tlsOf(id));
      },
    });
  }
  const aliceEnd = closeReason(alice.client);

  h.fake.inbound(8080).publish(server({ name: 'web-tcp', authorizations: [meshTlsIdentities('bob-only', [BOB])] }));
  t.equal(await aliceEnd, 'reset', 'the denied client sees a reset');
  t.same(terminated, [ALICE]);
  t.ok(alice.accepted.destroyed);

  t.notOk(bob.accepted.destroyed, 'the still-admitted connection is left alone');
  bob.client.write('still here');
  const [data] = (await once(bob.accepted, 'data')) as [Buffer];
  t.equal(data.toString(), 'still here');

  const text = await metrics.render();
  const lines = text.split('\n').filter((l) => l.startsWith('inbound_tcp_authz_terminate_total{'));
  t.same(lines, [
    'inbound_tcp_authz_terminate_total{target_addr="10.0.0.5:8080",target_ip="10.0.0.5",target_port="8080",' +
      'srv_group="policy.linkerd.io",srv_kind="server",srv_name="web-tcp",srv_port="8080",' +
      `tls="true",client_id="${ALICE}"} 1`,
  ]);
  t.match(text, '# HELP inbound_tcp_authz_terminate_total The total number of inbound TCP connections that were terminated due to an authorization change\n');
  const logged = h.log.lines.find((l) => l.message === 'Connection terminated due to policy change');
  t.equal(logged?.level, 'info');
  t.equal(logged?.fields?.server, 'server/web-tcp');
});

t.test("an enforced connection holds its lazy port's watch until the socket closes", async (t) => {
  const h = await startHarness(t, { LINKERD2_PROXY_INBOUND_DISCOVERY_IDLE_TIMEOUT: '30s' });
  const lazy = h.fake.inbound(7070);
  lazy.publish(server({ name: 'lazy', protocol: detect(), authorizations: [meshTlsIdentities('alice', [ALICE])] }));
  const handle = h.policies.get(7070);
  await until(() => handle.discovered, 'the lazy Server');

  const pair = await socketPair(t);
  let terminations = 0;
  enforceTcpAuthorization(meshed(pair.accepted, ALICE), handle, { onTerminate: () => terminations++ });
  t.same(h.clock.pending.filter((ms) => ms === 30_000), [], 'no idle countdown while the connection is open');
  h.clock.advance(60_000);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(lazy.openStreams, 1, 'the watch outlives the idle timeout');

  pair.client.destroy();
  await once(pair.accepted, 'close');
  t.same(h.clock.pending.filter((ms) => ms === 30_000), [30_000], 'closing the socket released the port');
  h.clock.advance(30_000);
  await until(() => lazy.openStreams === 0, 'the idle watch to close');
  t.equal(terminations, 0);
});

/** An in-memory PortPolicy the test changes by hand. */
function manualPolicy(initial: CompiledServerPolicy): PortPolicy & { set(p: CompiledServerPolicy): void; readonly listeners: number } {
  let current = initial;
  const listeners = new Set<(p: CompiledServerPolicy) => void>();
  return {
    current: () => current,
    subscribe(fn) {
      const l = (p: CompiledServerPolicy): void => fn(p);
      listeners.add(l);
      return () => listeners.delete(l);
    },
    set(p) {
      current = p;
      for (const l of [...listeners]) l(p);
    },
    get listeners() {
      return listeners.size;
    },
  };
}

const ALLOW_ALL = compileServerPolicy(defaultServerPolicy('all-unauthenticated', { detectTimeoutMs: 10_000, clusterNetworks: [] }));
const DENY = compileServerPolicy(DENY_POLICY);

t.test('stopping enforcement early, or enforcing a closed socket, never resets anything', async (t) => {
  const policy = manualPolicy(ALLOW_ALL);
  const pair = await socketPair(t);
  let terminations = 0;
  const stop = enforceTcpAuthorization(meshed(pair.accepted, ALICE), policy, { onTerminate: () => terminations++ });
  t.equal(policy.listeners, 1);
  policy.set(ALLOW_ALL);
  t.notOk(pair.accepted.destroyed, 'still allowed');
  stop();
  stop();
  t.equal(policy.listeners, 0, 'unsubscribed');
  policy.set(DENY);
  t.notOk(pair.accepted.destroyed, 'no longer enforced');

  const closed = await socketPair(t);
  closed.accepted.destroy();
  const noop = enforceTcpAuthorization(meshed(closed.accepted, ALICE), policy, { onTerminate: () => terminations++ });
  t.equal(policy.listeners, 0, 'nothing to watch for a destroyed socket');
  noop();
  t.equal(terminations, 0);
});

t.test('a denial unsubscribes at once, so later updates do not count the connection again', async (t) => {
  const policy = manualPolicy(ALLOW_ALL);
  const pair = await socketPair(t);
  const end = closeReason(pair.client);
  let terminations = 0;
  enforceTcpAuthorization(meshed(pair.accepted, ALICE), policy, { onTerminate: () => terminations++ });
  policy.set(DENY);
  policy.set(DENY);
  t.equal(terminations, 1);
  t.equal(policy.listeners, 0);
  t.equal(await end, 'reset');
});
