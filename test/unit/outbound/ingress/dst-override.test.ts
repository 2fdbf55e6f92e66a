// l5d-dst-override parsing as upstream's ingress mode reads it: absent, a named target, or invalid.
import t from 'tap';
import { defaultAuthority, parseDstOverride } from '../../../../src/outbound/ingress/dst-override.js';

t.test('a DNS name with or without a port names a target (port 80 by default), lower-cased, trailing dot dropped', async (t) => {
  t.same(parseDstOverride('web.test.svc.cluster.local:8080'), { kind: 'named', name: 'web.test.svc.cluster.local', port: 8080, authority: 'web.test.svc.cluster.local:8080' });
  t.same(parseDstOverride('web.test.svc.cluster.local'), { kind: 'named', name: 'web.test.svc.cluster.local', port: 80, authority: 'web.test.svc.cluster.local:80' });
  t.same(parseDstOverride('Web.Test.svc.cluster.local.:81'), { kind: 'named', name: 'web.test.svc.cluster.local', port: 81, authority: 'web.test.svc.cluster.local:81' });
  t.same(parseDstOverride('web'), { kind: 'named', name: 'web', port: 80, authority: 'web:80' });
  t.same(parseDstOverride('_grpc.web:9090'), { kind: 'named', name: '_grpc.web', port: 9090, authority: '_grpc.web:9090' });
});

t.test('a port that is not a 16-bit number is ignored (port 80), as the http crate does', async (t) => {
  t.same(parseDstOverride('web:99999'), { kind: 'named', name: 'web', port: 80, authority: 'web:80' });
  t.same(parseDstOverride('web:abc'), { kind: 'named', name: 'web', port: 80, authority: 'web:80' });
  t.same(parseDstOverride('web:'), { kind: 'named', name: 'web', port: 80, authority: 'web:80' });
  t.same(parseDstOverride('web:0080'), { kind: 'named', name: 'web', port: 80, authority: 'web:80' });
  t.same(parseDstOverride('web:65535'), { kind: 'named', name: 'web', port: 65535, authority: 'web:65535' });
});

t.test('an authority whose host is not a DNS name is invalid', async (t) => {
  for (const v of ['10.0.0.1:80', '10.0.0.1', '[::1]:80', '[fe80::1]', 'web-:80', '-web:80', 'a..b:80', 'web!:80', 'a.1:80', `${'a'.repeat(64)}:80`, ':80']) {
    t.same(parseDstOverride(v), { kind: 'invalid' }, v);
  }
});

t.test('a value that is not an authority at all counts as no header', async (t) => {
  for (const v of [undefined, '', 'web:80/path', 'web?x', 'web#f', 'we b:80', 'web:80:81', 'web\t', '[::1:80', 'user@', 'wéb:80', 'web"x']) {
    t.same(parseDstOverride(v), { kind: 'absent' }, String(v));
  }
});

t.test('userinfo is not part of the host', async (t) => {
  t.same(parseDstOverride('user:pw@web:8080'), { kind: 'named', name: 'web', port: 8080, authority: 'web:8080' });
});

t.test('the default request authority omits port 80', async (t) => {
  t.equal(defaultAuthority('web.test.svc.cluster.local', 80), 'web.test.svc.cluster.local');
  t.equal(defaultAuthority('web.test.svc.cluster.local', 8080), 'web.test.svc.cluster.local:8080');
});
