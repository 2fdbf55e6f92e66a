// Outbound opaque TCP over real sockets: policy routes, P2C over discovered endpoints, fail-fast, filters and metrics.
import t from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { socketAddr } from '../../../src/transport/index.js';
import { TestPki } from '../../support/pki.js';
import { testCredentials } from '../../support/proxy-env.js';
import { closeReason, roundTrip } from '../../support/net.js';
import { until } from '../control/helpers/test-clock.js';
import { countingEcho, echoOnce } from './helpers/runtime.js';
import { opaqueStack } from './helpers/stack.js';
import { SERVICE_PATH, addUpdate, balancerBackend, failingBackend, forwardBackend, opaquePolicy, removeUpdate, weightedAddr } from '../../support/outbound-wire.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);
const SERVICE_IP = '10.96.0.10';
const SERVICE = socketAddr(SERVICE_IP, 80);

t.test('a Service policy spreads connections over both discovered endpoints, labelled per endpoint', async (t) => {
  const a = await countingEcho(t);
  const b = await countingEcho(t);
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds, origDst: SERVICE });
  stack.policy.outbound(`${SERVICE_IP}:80`).publish(opaquePolicy([balancerBackend()]));
  stack.dst.getSender(SERVICE_PATH).initial = [
    addUpdate([weightedAddr('127.0.0.1', a.port, { labels: { pod: 'echo-a' } }), weightedAddr('127.0.0.1', b.port, { labels: { pod: 'echo-b' } })]),
  ];

  for (let i = 0; i < 20; i++) {
    const echoed = await roundTrip(stack.port, `hello ${i}`);
    t.equal(echoed.toString(), `hello ${i}`);
  }
  t.equal(a.accepted + b.accepted, 20, 'every connection reached an endpoint');
  t.ok(a.accepted > 0 && b.accepted > 0, `both endpoints were used (${a.accepted}/${b.accepted})`);
  t.same(stack.dst.requests.map((r) => [r.method, r.path]), [['Get', SERVICE_PATH]], 'one shared Destination.Get for the backend');

  await stack.settled();
  const text = await stack.rt.metrics.render();
  for (const [ep, pod] of [[a, 'echo-a'], [b, 'echo-b']] as const) {
    const line = `tcp_open_total{direction="outbound",peer="dst",authority="${SERVICE_PATH}",target_addr="127.0.0.1:${ep.port}",target_ip="127.0.0.1",target_port="${ep.port}",tls="no_identity",no_tls_reason="not_provided_by_service_discovery",dst_namespace="test",dst_pod="${pod}",dst_service="echo"} ${ep.accepted}`;
    t.ok(text.split('\n').includes(line), `connect metrics for ${pod}`);
  }
  t.match(text, /^tcp_open_connections\{direction="outbound",peer="dst".*\} 0$/m, 'nothing left open');
});

t.test('an endpoint removed during traffic: new connections avoid it, open ones keep flowing', async (t) => {
  const a = await countingEcho(t);
  const b = await countingEcho(t);
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds, origDst: SERVICE });
  stack.policy.outbound(`${SERVICE_IP}:80`).publish(opaquePolicy([balancerBackend()]));
  const sender = stack.dst.getSender(SERVICE_PATH);
  sender.initial = [addUpdate([weightedAddr('127.0.0.1', a.port), weightedAddr('127.0.0.1', b.port)])];

  const open = net.connect(stack.port, '127.0.0.1');
  t.teardown(() => open.destroy());
  await once(open, 'connect');
  t.equal(await echoOnce(open, 'first'), 'first');
  const [gone, kept] = a.open === 1 ? [a, b] : [b, a];
  t.equal(gone.open, 1, 'the long-lived connection sits on one endpoint');

  const view = stack.clients.destination.get(SERVICE_PATH);
  t.teardown(() => view.unsubscribe());
  sender.push(removeUpdate('127.0.0.1', gone.port));
  await until(() => view.current()?.endpoints.size === 1, 'the removal to arrive');

  const before = { gone: gone.accepted, kept: kept.accepted };
  for (let i = 0; i < 6; i++) t.equal((await roundTrip(stack.port, `after ${i}`)).toString(), `after ${i}`);
  t.equal(gone.accepted, before.gone, 'no new connection went to the removed endpoint');
  t.equal(kept.accepted, before.kept + 6, 'all of them went to the remaining one');
  t.equal(await echoOnce(open, 'still flowing'), 'still flowing', 'the open connection to the removed endpoint keeps working');
});

t.test('no endpoints: the connection waits, then closes after the backend failfast timeout', async (t) => {
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds, origDst: SERVICE });
  stack.policy.outbound(`${SERVICE_IP}:80`).publish(opaquePolicy([balancerBackend('empty.test.svc.cluster.local:80', { failfastMs: 300 })]));
  stack.dst.getSender('empty.test.svc.cluster.local:80');

  const started = Date.now();
  t.equal(await closeReason(net.connect(stack.port, '127.0.0.1')), 'reset', 'closed with a reset');
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 250 && elapsed < 2500, `closed after the 300ms failfast timeout (${elapsed}ms)`);
  t.ok(stack.rt.log.closeReasons().includes('service in fail-fast'), 'the reason is logged');

  const again = Date.now();
  t.equal(await closeReason(net.connect(stack.port, '127.0.0.1')), 'reset');
  t.ok(Date.now() - again < 200, 'while in fail-fast, new connections fail at once');
  t.equal(stack.dst.requests.filter((r) => r.method === 'Get').length, 1, 'the orig dst was never used as a fallback; one discovery stream');
});

t.test('NotFound: the connection is forwarded to its original destination, without an authority label', async (t) => {
  const echo = await countingEcho(t);
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds, origDst: socketAddr('127.0.0.1', echo.port) });
  stack.policy.outbound(`127.0.0.1:${echo.port}`).rejectWith = { code: grpc.status.NOT_FOUND, details: 'no policy' };

  t.equal((await roundTrip(stack.port, 'to the orig dst')).toString(), 'to the orig dst');
  t.equal(echo.accepted, 1);
  await stack.settled();
  const text = await stack.rt.metrics.render();
  t.ok(
    text.split('\n').includes(`tcp_open_total{direction="outbound",peer="dst",target_addr="127.0.0.1:${echo.port}",target_ip="127.0.0.1",target_port="${echo.port}",tls="no_identity",no_tls_reason="not_provided_by_service_discovery"} 1`),
    'forward connect metrics: no authority, no dst_* labels',
  );
  t.equal(stack.targets.get(socketAddr('127.0.0.1', echo.port)).current()?.meta.name, 'fallback');
});

t.test('a forward backend that refuses is retried with backoff until the failfast timeout, then closed', async (t) => {
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds, origDst: SERVICE });
  // Port 1 on loopback: nothing listens there.
  stack.policy.outbound(`${SERVICE_IP}:80`).publish(opaquePolicy([forwardBackend(weightedAddr('127.0.0.1', 1), { failfastMs: 400 })]));
  const started = Date.now();
  t.equal(await closeReason(net.connect(stack.port, '127.0.0.1')), 'reset');
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 350 && elapsed < 2500, `kept trying for the failfast timeout (${elapsed}ms)`);
  t.match(stack.rt.log.closeReasons().at(-1), /connect to 127\.0\.0\.1:1 failed: connection refused/);
});

t.test('route filters, fail backends and a refused target close the connection with the reason', async (t) => {
  const echo = await countingEcho(t);
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds, origDst: SERVICE });
  const target = stack.targets.get(SERVICE);
  const sender = stack.policy.outbound(`${SERVICE_IP}:80`);
  stack.dst.getSender(SERVICE_PATH).initial = [addUpdate([weightedAddr('127.0.0.1', echo.port)])];
  let policies = 0;
  target.subscribe(() => policies++);
  const publish = async (policy: Record<string, unknown>, n: number): Promise<void> => {
    sender.publish(policy);
    await until(() => policies >= n, `policy #${n}`);
  };

  await publish(opaquePolicy([balancerBackend()], [{ forbidden: {} }]), 1);
  t.equal(await closeReason(net.connect(stack.port, '127.0.0.1')), 'reset');
  await publish(opaquePolicy([balancerBackend()], [{ invalid: { message: 'the route is broken' } }]), 2);
  t.equal(await closeReason(net.connect(stack.port, '127.0.0.1')), 'reset');
  await publish(opaquePolicy([failingBackend()]), 3);
  t.equal(await closeReason(net.connect(stack.port, '127.0.0.1')), 'reset');
  t.same(stack.rt.log.closeReasons(), [
    'opaque route forbids the connection',
    'the route is broken',
    'backend for Service test/broken has no dispatcher',
  ]);
  t.equal(echo.accepted, 0, 'nothing was dialled');

  await publish(opaquePolicy([balancerBackend()]), 4);
  t.equal((await roundTrip(stack.port, 'allowed now')).toString(), 'allowed now', 'the live policy applies to new connections');
});

t.test('a target the policy controller refuses (InvalidArgument) closes its connections', async (t) => {
  const stack = await opaqueStack(t, { trustAnchorsPem: ca.certPem, creds, origDst: SERVICE });
  stack.policy.outbound(`${SERVICE_IP}:80`).rejectWith = { code: grpc.status.INVALID_ARGUMENT, details: 'bad workload' };
  t.equal(await closeReason(net.connect(stack.port, '127.0.0.1')), 'reset');
  t.same(stack.rt.log.closeReasons(), [`discovery rejected ${SERVICE_IP}:80: InvalidArgument: bad workload`]);
});
