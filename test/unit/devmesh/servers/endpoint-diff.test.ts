// Successive endpoint sets become the add/remove updates a client applies: upsert by ip:port, remove what left.
import t from 'tap';
import { endpointKey, endpointUpdates } from '../../../../src/devmesh/servers/endpoint-diff.js';
import { wireEqual } from '../../../../src/devmesh/servers/wire-equal.js';

const labels = { service: 'legacy-app', namespace: 'mixed-env' };
const ep = (ip: number, port = 80, extra: Record<string, unknown> = {}) => ({ addr: { ip: { ipv4: ip }, port }, weight: 10000, ...extra });
const A = ep(0x0a000005);
const B = ep(0x0a000006);
const C = ep(0x0a000007);

t.test('first answer: one add of the whole set with the set labels; an empty set is silent', async (t) => {
  t.same(endpointUpdates(undefined, { setLabels: labels, endpoints: [A, B] }), [{ add: { addrs: [A, B], metricLabels: labels } }]);
  t.same(endpointUpdates(undefined, { setLabels: labels, endpoints: [] }), []);
});

t.test('changes: removes first, then adds of the new and changed endpoints only', async (t) => {
  const prev = { setLabels: labels, endpoints: [A, B] };
  const B2 = ep(0x0a000006, 80, { weight: 20000 });
  t.same(endpointUpdates(prev, { setLabels: labels, endpoints: [B2, C] }), [
    { remove: { addrs: [A.addr] } },
    { add: { addrs: [B2, C], metricLabels: labels } },
  ]);
  t.same(endpointUpdates(prev, { setLabels: labels, endpoints: [B, A] }), [], 'same set in another order: nothing');
  t.same(endpointUpdates(prev, { setLabels: labels, endpoints: [] }), [{ remove: { addrs: [A.addr, B.addr] } }], 'all gone: remove all, no no_endpoints');
  t.same(endpointUpdates({ setLabels: labels, endpoints: [] }, { setLabels: labels, endpoints: [C] }), [{ add: { addrs: [C], metricLabels: labels } }]);
});

t.test('changed set labels re-add every endpoint; ports and families key separately', async (t) => {
  const other = { ...labels, service: 'renamed' };
  t.same(endpointUpdates({ setLabels: labels, endpoints: [A] }, { setLabels: other, endpoints: [A] }), [{ add: { addrs: [A], metricLabels: other } }]);
  t.not(endpointKey(ep(1, 80)), endpointKey(ep(1, 81)));
  t.equal(endpointKey({ addr: { ip: { ipv6: { first: '1', last: 5 } }, port: 80 } }), endpointKey({ addr: { ip: { ipv6: { first: 1, last: '5' } }, port: 80 } }));
  t.not(endpointKey({ addr: { ip: { ipv4: 5 }, port: 80 } }), endpointKey({ addr: { ip: { ipv6: { last: 5 } }, port: 80 } }));
});

t.test('wire equality: undefined is absent, bytes by value, 64-bit numbers as strings', async (t) => {
  t.ok(wireEqual({ a: 1, b: undefined }, { a: 1 }));
  t.ok(wireEqual({ x: Buffer.from('ab') }, { x: new Uint8Array([97, 98]) }));
  t.notOk(wireEqual({ x: Buffer.from('ab') }, { x: Buffer.from('ac') }));
  t.ok(wireEqual({ seconds: 10 }, { seconds: '10' }));
  t.notOk(wireEqual([1, 2], [2, 1]));
  t.notOk(wireEqual({ a: {} }, { a: [] }));
});
