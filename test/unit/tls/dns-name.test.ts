// DNS reference-name syntax accepted for SNI and identities.
import t from 'tap';
import { isValidDnsName } from '../../../src/tls/dns-name.js';

t.test('valid DNS names (RFC 5280 preferred syntax plus underscores)', async (t) => {
  for (const name of [
    'localhost', 'localhost.', 'web.ns1.svc.cluster.local', 'WEB.Example.com', 'a-b.c_d.e', '_srv.example.com',
    'x1.example', '1a.example', 'example.1a', `${'a'.repeat(63)}.com`, `${'a.'.repeat(126)}a`,
  ]) {
    t.ok(isValidDnsName(name), name);
  }
});

t.test('invalid DNS names', async (t) => {
  for (const name of [
    '', '.', '..', '.leading.dot', 'a..b', 'trailing.dots..', '-a.example', 'a-.example', 'a.-b', 'a.b-',
    '127.0.0.1', 'example.123', 'example.123.', 'sp ace.example', 'star*.example', '*.example.com', 'a/b',
    'spiffe://td/ns/x', 'caf\u00e9.example', `${'a'.repeat(64)}.com`, `${'a.'.repeat(126)}ab`, 'host:443',
  ]) {
    t.notOk(isValidDnsName(name), JSON.stringify(name));
  }
});
