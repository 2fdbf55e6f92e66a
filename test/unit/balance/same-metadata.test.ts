import t from 'tap';
import { sameMetadata } from '../../../src/balance/same-metadata.js';

t.test('equal plain data compares equal', async (t) => {
  const a = {
    identity: { dns: 'web.ns.serviceaccount.identity.linkerd.cluster.local' },
    hint: { h2: true, opaquePort: undefined },
    labels: new Map([['pod', 'web-1']]),
    ports: [4143],
    key: new Uint8Array([1, 2]),
  };
  const b = structuredClone(a);
  t.ok(sameMetadata(a, b));
  t.ok(sameMetadata(NaN, NaN));
  t.ok(sameMetadata(undefined, undefined));
});

t.test('any difference compares unequal', async (t) => {
  const base = { zone: 'a', labels: { pod: 'p' }, ports: [1, 2] };
  t.notOk(sameMetadata(base, { ...base, zone: 'b' }));
  t.notOk(sameMetadata(base, { ...base, labels: { pod: 'q' } }));
  t.notOk(sameMetadata(base, { ...base, ports: [1] }));
  t.notOk(sameMetadata(base, { zone: 'a', labels: { pod: 'p' } }), 'missing key');
  t.notOk(sameMetadata({ a: undefined }, { b: undefined }), 'different keys with undefined values');
  t.notOk(sameMetadata(new Map([['a', 1]]), new Map([['a', 2]])));
  t.notOk(sameMetadata(new Uint8Array([1]), new Uint8Array([2])));
  t.notOk(sameMetadata([1], { 0: 1, length: 1 }), 'array vs object');
  t.notOk(sameMetadata(null, {}));
});
