// Destination.Get and GetProfile against a hand-built snapshot: initial add, diffs on change, silence, refusals.
import t from 'tap';
import type { Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { addDestinationService } from '../../../../src/devmesh/servers/destination-service.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { StreamReader, tcpText } from '../../../support/control-plane-codec.js';
import type { Wire } from '../../../support/control-plane-codec.js';
import { serve } from '../helpers/serve.js';

const SVC = 'legacy-app.mixed-env.svc.cluster.local:80';
const labels = { service: 'legacy-app', namespace: 'mixed-env' };
const ep = (ip: number, extra: Record<string, unknown> = {}) => ({ addr: { ip: { ipv4: ip }, port: 80 }, weight: 10000, ...extra });
const A = ep(0x0a000005, { metricLabels: { external_workload: 'external-workload' } });
const B = ep(0x0a000006);
const DST = 'io.linkerd.proxy.destination.Destination';

async function start(t: Test, tables: Parameters<typeof serve>[0]) {
  const s = await serve(tables, (server, holder, calls) => addDestinationService(server, holder, calls, silentLogger));
  t.teardown(() => s.close());
  return s;
}

t.test('Get: the whole set as one add, then remove/add diffs as the snapshot changes', async (t) => {
  const s = await start(t, { gets: { [SVC]: { kind: 'endpoints', setLabels: labels, endpoints: [A] } } });
  const stream = new StreamReader(s.client(DST).serverStream('Get', { path: SVC, contextToken: '{"ns":"mixed-env"}' }));
  t.teardown(() => stream.cancel());
  const first = await stream.message(1);
  t.equal(first.update, 'add');
  t.same((first.add as { addrs: unknown[] }).addrs.length, 1);
  t.same((first.add as { metricLabels: unknown }).metricLabels, labels);

  s.change({ gets: { [SVC]: { kind: 'endpoints', setLabels: labels, endpoints: [A, B] } } });
  const second = await stream.message(2);
  t.equal(second.update, 'add');
  t.same((second.add as { addrs: { addr: Wire }[] }).addrs.map((a) => tcpText(a.addr)), ['10.0.0.6:80'], 'only the new endpoint');

  s.change({ gets: { [SVC]: { kind: 'endpoints', setLabels: labels, endpoints: [B] } } });
  const third = await stream.message(3);
  t.equal(third.update, 'remove');
  t.same((third.remove as { addrs: Wire[] }).addrs.map((a) => tcpText(a)), ['10.0.0.5:80']);

  const before = stream.messages.length;
  s.change({ gets: { [SVC]: { kind: 'endpoints', setLabels: labels, endpoints: [B] } } });
  await new Promise((r) => setTimeout(r, 50));
  t.equal(stream.messages.length, before, 'an unchanged answer sends nothing');
});

t.test('Get: silent while empty; a refusal removes what was sent, then ends the stream with the status', async (t) => {
  const s = await start(t, { gets: { [SVC]: { kind: 'endpoints', setLabels: labels, endpoints: [] } } });
  const stream = new StreamReader(s.client(DST).serverStream('Get', { path: SVC }));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(stream.messages.length, 0, 'no message at all for an empty service');
  t.equal(stream.status, undefined, 'and the stream stays open');

  s.change({ gets: { [SVC]: { kind: 'endpoints', setLabels: labels, endpoints: [B] } } });
  t.equal((await stream.message(1)).update, 'add');
  s.change({ gets: {} });
  t.equal((await stream.message(2)).update, 'remove');
  t.match(await stream.ended(), { code: grpc.status.NOT_FOUND });
  t.equal(s.calls.size, 0, 'the call is no longer tracked');
  t.equal(s.holder.listenerCount, 0, 'and no longer follows the snapshot');

  const ip = new StreamReader(s.client(DST).serverStream('Get', { path: '10.0.0.5:80' }));
  t.match(await ip.ended(), { code: grpc.status.NOT_FOUND });
});

t.test('Get: an INVALID_ARGUMENT refusal at once', async (t) => {
  const s = await start(t, { gets: { '10.0.0.5:80': { kind: 'refused', code: 'INVALID_ARGUMENT', message: 'IP queries not supported by Get API' } } });
  const stream = new StreamReader(s.client(DST).serverStream('Get', { path: '10.0.0.5:80' }));
  t.same(await stream.ended(), { code: grpc.status.INVALID_ARGUMENT, details: 'IP queries not supported by Get API' });
});

t.test('GetProfile: the profile, then a new one only when it changes', async (t) => {
  const profile = (opaque: boolean) => ({ kind: 'profile' as const, profile: { fullyQualifiedName: 'legacy-app.mixed-env.svc.cluster.local', opaqueProtocol: opaque, retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: { seconds: 10 } } } });
  const s = await start(t, { profiles: { [SVC]: profile(false) } });
  const stream = new StreamReader(s.client(DST).serverStream('GetProfile', { path: SVC }));
  t.teardown(() => stream.cancel());
  t.match(await stream.message(1), { fullyQualifiedName: 'legacy-app.mixed-env.svc.cluster.local' });
  s.change({ profiles: { [SVC]: profile(false) } });
  s.change({ profiles: { [SVC]: profile(true) } });
  t.match(await stream.message(2), { opaqueProtocol: true });
  await new Promise((r) => setTimeout(r, 50));
  t.equal(stream.messages.length, 2);
  stream.cancel();
  await stream.ended();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(s.holder.listenerCount, 0, 'a cancelled call stops following');
});

t.test('a model crash is INTERNAL for that call only', async (t) => {
  const s = await start(t, {});
  s.holder.publish({ ...s.holder.current(), destinationGet: () => { throw new Error('boom'); } });
  const stream = new StreamReader(s.client(DST).serverStream('Get', { path: SVC }));
  t.match(await stream.ended(), { code: grpc.status.INTERNAL, details: /boom/ });
});

t.test('shutting down ends open streams UNAVAILABLE', async (t) => {
  const s = await start(t, { gets: { [SVC]: { kind: 'endpoints', setLabels: labels, endpoints: [A] } } });
  const stream = new StreamReader(s.client(DST).serverStream('Get', { path: SVC }));
  await stream.message(1);
  await s.close();
  t.match(await stream.ended(), { code: grpc.status.UNAVAILABLE });
});
