// InboundServerPolicies and OutboundPolicies against a hand-built snapshot: replacements, unary answers, bad requests.
import t from 'tap';
import type { Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { addPolicyServices } from '../../../../src/devmesh/servers/policy-service.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { StreamReader, tcpAddress } from '../../../support/control-plane-codec.js';
import { serve } from '../helpers/serve.js';
import type { FakeTables } from '../helpers/fake-snapshot.js';

const WL = '{"ns":"mixed-env","external_workload":"external-workload"}';
const INBOUND = 'io.linkerd.proxy.inbound.InboundServerPolicies';
const OUTBOUND = 'io.linkerd.proxy.outbound.OutboundPolicies';
const server = (name: string) => ({ kind: 'server' as const, server: { protocol: { detect: { timeout: { seconds: 10 } } }, labels: { group: '', kind: 'default', name } } });
const policy = (name: string) => ({ kind: 'policy' as const, policy: { protocol: { opaque: {} }, metadata: { default: name } } });

async function start(t: Test, tables: FakeTables) {
  const s = await serve(tables, (srv, holder, calls) => addPolicyServices(srv, holder, calls, silentLogger));
  t.teardown(() => s.close());
  return s;
}

t.test('WatchPort: the Server now, a new one when it changes, NotFound ends the stream', async (t) => {
  const s = await start(t, { inbound: { [`${WL}|80`]: server('all-unauthenticated') } });
  const stream = new StreamReader(s.client(INBOUND).serverStream('WatchPort', { workload: WL, port: 80 }));
  t.match(await stream.message(1), { labels: { name: 'all-unauthenticated' }, protocol: { kind: 'detect' } });
  s.change({ inbound: { [`${WL}|80`]: server('all-unauthenticated') } });
  s.change({ inbound: { [`${WL}|80`]: server('legacy-app') } });
  t.match(await stream.message(2), { labels: { name: 'legacy-app' } });
  t.equal(stream.messages.length, 2, 'the unchanged reload sent nothing');
  s.change({});
  t.match(await stream.ended(), { code: grpc.status.NOT_FOUND });
});

t.test('GetPort answers once; port 0 and >65535 are INVALID_ARGUMENT', async (t) => {
  const s = await start(t, { inbound: { [`${WL}|80`]: server('x') } });
  const c = s.client(INBOUND);
  t.match(await c.unary('GetPort', { workload: WL, port: 80 }), { labels: { name: 'x' } });
  await t.rejects(c.unary('GetPort', { workload: WL, port: 81 }), { code: grpc.status.NOT_FOUND });
  await t.rejects(c.unary('GetPort', { workload: WL, port: 0 }), { code: grpc.status.INVALID_ARGUMENT });
  await t.rejects(c.unary('GetPort', { workload: WL, port: 70000 }), { code: grpc.status.INVALID_ARGUMENT });
  const watch = new StreamReader(c.serverStream('WatchPort', { workload: WL, port: 0 }));
  t.match(await watch.ended(), { code: grpc.status.INVALID_ARGUMENT });
});

t.test('outbound Watch/Get by address and by authority; no target is INVALID_ARGUMENT', async (t) => {
  const s = await start(t, { outbound: { '10.96.0.10:80': policy('a'), 'legacy-app.mixed-env.svc.cluster.local:80': policy('b'), 'fd00::5:80': policy('v6') } });
  const c = s.client(OUTBOUND);
  const stream = new StreamReader(c.serverStream('Watch', { sourceWorkload: WL, addr: tcpAddress('10.96.0.10', 80) }));
  t.teardown(() => stream.cancel());
  t.match(await stream.message(1), { metadata: { default: 'a' } });
  s.change({ outbound: { '10.96.0.10:80': policy('a2') } });
  t.match(await stream.message(2), { metadata: { default: 'a2' } });
  s.change({ outbound: { '10.96.0.10:80': policy('a2'), 'legacy-app.mixed-env.svc.cluster.local:80': policy('b') } });
  t.match(await c.unary('Get', { sourceWorkload: WL, authority: 'legacy-app.mixed-env.svc.cluster.local:80' }), { metadata: { default: 'b' } });
  await t.rejects(c.unary('Get', { sourceWorkload: WL }), { code: grpc.status.INVALID_ARGUMENT, details: 'target is required' });
  s.change({ outbound: { 'fd00::5:80': policy('v6') } });
  t.match(await c.unary('Get', { sourceWorkload: WL, addr: tcpAddress('fd00::5', 80) }), { metadata: { default: 'v6' } }, 'IPv6 targets arrive as text');
});
