// Authorization checks: networks with exceptions (IPv4/IPv6/mapped), authentication kinds, identity and suffix rules.
import t from 'tap';
import { compileServerPolicy, type Authentication, type Authorization, type AuthzNetwork, type ClientTls, type ServerPolicy } from '../../../../src/policy/inbound/index.js';
import { conn, DNS_ID, request, TLS_CASES, VM_SPIFFE_ID } from './fixtures.js';

function net(cidr: string): AuthzNetwork['net'] {
  const [addr = '', len = ''] = cidr.split('/');
  return { family: addr.includes(':') ? 6 : 4, addr, prefixLen: Number(len) };
}

function authz(name: string, networks: { net: string; except?: string[] }[], authentication: Authentication): Authorization {
  return {
    meta: { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name },
    networks: networks.map((n) => ({ net: net(n.net), except: (n.except ?? []).map(net) })),
    authentication,
  };
}

function opaque(...authzs: Authorization[]): ServerPolicy {
  return { meta: { group: 'policy.linkerd.io', kind: 'server', name: 's' }, protocol: { kind: 'opaque', tcpAuthorizations: authzs }, localRateLimit: undefined };
}

const ANY = { kind: 'unauthenticated' } as const;

t.test('IPv4 networks with except lists', async (t) => {
  const p = compileServerPolicy(opaque(authz('a', [{ net: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.3.4/32'] }], ANY)));
  const cases: [string, boolean][] = [
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['10.1.0.0', false],
    ['10.1.255.255', false],
    ['10.2.3.4', false],
    ['10.2.3.5', true],
    ['11.0.0.0', false],
    ['9.255.255.255', false],
    ['::ffff:10.0.0.1', true],
    ['::ffff:10.1.2.3', false],
    ['::ffff:a00:1', true],
    ['fd00::1', false],
    ['not-an-ip', false],
    ['', false],
  ];
  for (const [ip, want] of cases) t.equal(p.authorizeTcp(conn(ip, TLS_CASES.plaintext)).allowed, want, `${ip} ⇒ ${want}`);
});

t.test('IPv6 networks with except lists', async (t) => {
  const p = compileServerPolicy(opaque(authz('a', [{ net: 'fd00::/8', except: ['fd00:1::/32', 'fdff::1/128'] }], ANY)));
  const cases: [string, boolean][] = [
    ['fd00::1', true],
    ['fdab:cdef::1', true],
    ['fd00:1::5', false],
    ['fd00:1:ffff:ffff:ffff:ffff:ffff:ffff', false],
    ['fd00:2::5', true],
    ['fdff::1', false],
    ['fdff::2', true],
    ['fe80::1%eth0', false],
    ['fc00::1', false],
    ['10.0.0.1', false],
    ['FD00:0:0:0:0:0:0:9', true],
  ];
  for (const [ip, want] of cases) t.equal(p.authorizeTcp(conn(ip, TLS_CASES.plaintext)).allowed, want, `${ip} ⇒ ${want}`);
});

t.test('host bits, /0, /32, /128 and mapped networks', async (t) => {
  const hostBits = compileServerPolicy(opaque(authz('a', [{ net: '192.168.1.77/24' }], ANY)));
  t.ok(hostBits.authorizeTcp(conn('192.168.1.1', TLS_CASES.plaintext)).allowed, 'host bits in the network are ignored');
  t.notOk(hostBits.authorizeTcp(conn('192.168.2.1', TLS_CASES.plaintext)).allowed);
  const single = compileServerPolicy(opaque(authz('a', [{ net: '192.168.1.77/32' }, { net: '2001:db8::1/128' }], ANY)));
  t.ok(single.authorizeTcp(conn('192.168.1.77', TLS_CASES.plaintext)).allowed);
  t.notOk(single.authorizeTcp(conn('192.168.1.78', TLS_CASES.plaintext)).allowed);
  t.ok(single.authorizeTcp(conn('2001:db8::1', TLS_CASES.plaintext)).allowed);
  t.notOk(single.authorizeTcp(conn('2001:db8::2', TLS_CASES.plaintext)).allowed);
  const zero = compileServerPolicy(opaque(authz('a', [{ net: '0.0.0.0/0', except: ['0.0.0.0/1'] }], ANY)));
  t.notOk(zero.authorizeTcp(conn('1.2.3.4', TLS_CASES.plaintext)).allowed, 'except covers the low half');
  t.ok(zero.authorizeTcp(conn('200.2.3.4', TLS_CASES.plaintext)).allowed);
  t.notOk(zero.authorizeTcp(conn('2001:db8::1', TLS_CASES.plaintext)).allowed, 'an IPv4 /0 does not contain IPv6');
  const mapped = compileServerPolicy(opaque(authz('a', [{ net: '::ffff:10.0.0.0/104' }], ANY)));
  t.ok(mapped.authorizeTcp(conn('10.3.3.3', TLS_CASES.plaintext)).allowed, 'an IPv4-mapped network covers IPv4 clients');
  t.notOk(mapped.authorizeTcp(conn('11.3.3.3', TLS_CASES.plaintext)).allowed);
  const empty = compileServerPolicy(opaque(authz('a', [], ANY)));
  t.notOk(empty.authorizeTcp(conn('10.0.0.1', TLS_CASES.plaintext)).allowed, 'no networks admit nobody');
});

t.test('authentication kinds against each TLS state', async (t) => {
  const kinds: [Authentication, Record<keyof typeof TLS_CASES, boolean>][] = [
    [ANY, { plaintext: true, passthrough: true, terminatedNoId: true, dnsId: true, spiffeId: true }],
    [{ kind: 'tls-unauthenticated' }, { plaintext: false, passthrough: false, terminatedNoId: true, dnsId: true, spiffeId: true }],
    [{ kind: 'tls-authenticated', identities: [], suffixes: [[]] }, { plaintext: false, passthrough: false, terminatedNoId: false, dnsId: true, spiffeId: false }],
    [{ kind: 'tls-authenticated', identities: [VM_SPIFFE_ID], suffixes: [] }, { plaintext: false, passthrough: false, terminatedNoId: false, dnsId: false, spiffeId: true }],
    [{ kind: 'tls-authenticated', identities: [DNS_ID], suffixes: [] }, { plaintext: false, passthrough: false, terminatedNoId: false, dnsId: true, spiffeId: false }],
    [{ kind: 'tls-authenticated', identities: [], suffixes: [] }, { plaintext: false, passthrough: false, terminatedNoId: false, dnsId: false, spiffeId: false }],
  ];
  for (const [authn, want] of kinds) {
    const p = compileServerPolicy(opaque(authz('a', [{ net: '0.0.0.0/0' }], authn)));
    for (const [name, tls] of Object.entries(TLS_CASES) as [keyof typeof TLS_CASES, ClientTls][]) {
      t.equal(p.authorizeTcp(conn('1.1.1.1', tls)).allowed, want[name], `${JSON.stringify(authn)} × ${name}`);
    }
  }
});

t.test('suffix edge cases (upstream Suffix: ends_with "." + parts)', async (t) => {
  const check = (suffixes: string[][], identities: string[], id: string): boolean =>
    compileServerPolicy(opaque(authz('a', [{ net: '0.0.0.0/0' }], { kind: 'tls-authenticated', identities, suffixes }))).authorizeTcp(
      conn('1.1.1.1', { kind: 'terminated', clientId: id }),
    ).allowed;
  t.ok(check([[]], [], 'anything.example'), 'empty suffix admits every DNS id');
  t.ok(check([[]], [], 'single'), 'even a single-label DNS id');
  t.notOk(check([[]], [], 'spiffe://td/anything'), 'empty suffix does not admit URI ids');
  t.ok(check([['cluster', 'local']], [], 'a.b.cluster.local'), 'multi-label suffix');
  t.ok(check([['serviceaccount', 'identity', 'linkerd', 'cluster', 'local']], [], DNS_ID));
  t.notOk(check([['cluster', 'local']], [], 'cluster.local'), 'an id equal to the suffix itself is not matched (needs a leading label)');
  t.notOk(check([['cluster', 'local']], [], 'xcluster.local'), 'label boundary respected');
  t.notOk(check([['cluster', 'local']], [], 'a.cluster.local.evil'), 'suffix must be at the end');
  t.notOk(check([['cluster', 'local']], [], 'spiffe://x.cluster.local'), 'suffixes never apply to URI ids');
  t.notOk(check([['local']], [], 'spiffe://root.linkerd.cluster.local/external-workload'), 'URI id ending in a suffix-looking host is refused');
  t.ok(check([['x', 'y'], ['cluster', 'local']], [], 'a.cluster.local'), 'any suffix of several');
  t.ok(check([], ['exact.name'], 'exact.name'), 'exact DNS identity');
  t.notOk(check([], ['exact.name'], 'sub.exact.name'), 'exact list is exact');
  t.notOk(check([], ['Exact.Name'], 'exact.name'), 'identities compare verbatim');
  t.ok(check([], ['spiffe://td/a', 'dns.name'], 'spiffe://td/a'), 'URI id in a mixed list');
  t.notOk(check([], ['spiffe://td/a'], 'spiffe://td/a/b'), 'URI ids are exact');
});

t.test('first admitting authorization is reported; order matters', async (t) => {
  const a = authz('cluster-only', [{ net: '10.0.0.0/8' }], { kind: 'tls-authenticated', identities: [], suffixes: [[]] });
  const b = authz('audit-like', [{ net: '0.0.0.0/0' }], ANY);
  const p = compileServerPolicy(opaque(a, b));
  const r1 = p.authorizeTcp(conn('10.0.0.1', TLS_CASES.dnsId));
  t.ok(r1.allowed && r1.authz.meta.name === 'cluster-only');
  const r2 = p.authorizeTcp(conn('10.0.0.1', TLS_CASES.plaintext));
  t.ok(r2.allowed && r2.authz.meta.name === 'audit-like');
  t.equal(r2.allowed && r2.audit, false, 'a resource named audit is not the audit default');
});

t.test('explicit HTTP protocols have no TCP authorizations', async (t) => {
  const allow = authz('a', [{ net: '0.0.0.0/0' }], ANY);
  const route = { meta: { group: '', kind: 'default', name: 'default' }, hosts: [], rules: [{ matches: [], filters: [] }], authorizations: [allow] };
  for (const kind of ['http1', 'http2'] as const) {
    const p = compileServerPolicy({ meta: { group: 'g', kind: 'server', name: 's' }, protocol: { kind, routes: [route] }, localRateLimit: undefined });
    t.equal(p.authorizeTcp(conn('1.1.1.1', TLS_CASES.plaintext)).allowed, false, `${kind}: TCP denied`);
    t.equal(p.authorizeHttp(conn('1.1.1.1', TLS_CASES.plaintext), request()).kind, 'allowed', `${kind}: HTTP allowed`);
  }
  const tls = compileServerPolicy({ meta: { group: 'g', kind: 'server', name: 's' }, protocol: { kind: 'tls', tcpAuthorizations: [allow] }, localRateLimit: undefined });
  t.equal(tls.authorizeTcp(conn('1.1.1.1', TLS_CASES.passthrough)).allowed, true, 'tls protocol uses TCP authorizations');
  t.same(tls.authorizeHttp(conn('1.1.1.1', TLS_CASES.passthrough), request()), { kind: 'not-found' });
});

t.test('compiled results are stable and shareable', async (t) => {
  const p = compileServerPolicy(opaque(authz('a', [{ net: '0.0.0.0/0' }], ANY)));
  const r = p.authorizeTcp(conn('1.1.1.1', TLS_CASES.plaintext));
  t.ok(r.allowed);
  t.equal(r.allowed && r.authz, p.policy.protocol.kind === 'opaque' ? p.policy.protocol.tcpAuthorizations[0] : undefined, 'the authz object of the policy is returned');
  t.ok(Object.isFrozen(p));
});
