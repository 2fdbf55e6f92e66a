// Each value format of spec §1.1: accepted forms, rejected forms and edge cases.
import t from 'tap';
import {
  parseBool,
  parseControlAddr,
  parseDnsName,
  parseDnsSuffixes,
  parseDuration,
  parseIpSet,
  parseJitter,
  parseNetworks,
  parseOptionalDuration,
  parsePortSet,
  parseSocketAddr,
  parseSocketAddrs,
  parseTlsId,
  uintParser,
  type Parsed,
} from '../../../src/config/formats.js';

function value<T>(p: Parsed<T>): T | 'INVALID' {
  return p.ok ? p.value : 'INVALID';
}

t.test('duration', async (t) => {
  const cases: [string, number][] = [
    ['0', 0],
    ['0ms', 0],
    ['300ms', 300],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 5s\t', 5_000],
    ['007s', 7_000],
  ];
  for (const [text, ms] of cases) t.equal(value(parseDuration(text)), ms, JSON.stringify(text));
  for (const text of ['', '5', '1 ms', '1.5s', '.5s', '-1s', '12y', '12moons', '5S', 's', '1s2', '99999999999999999999d']) {
    t.equal(value(parseDuration(text)), 'INVALID', JSON.stringify(text));
  }
  const bad = parseDuration('5');
  t.same(bad, { ok: false, expected: 'a duration like 300ms, 10s, 2m (a bare number only for 0)' });
});

t.test('optional duration: empty means unset', async (t) => {
  t.equal(value(parseOptionalDuration('')), undefined);
  t.equal(value(parseOptionalDuration('2s')), 2000);
  t.equal(value(parseOptionalDuration(' ')), 'INVALID');
  t.equal(value(parseOptionalDuration('2')), 'INVALID');
});

t.test('bool is exactly true or false', async (t) => {
  t.equal(value(parseBool('true')), true);
  t.equal(value(parseBool('false')), false);
  for (const s of ['True', 'FALSE', '1', '0', 'yes', ' true', '']) t.equal(value(parseBool(s)), 'INVALID', s);
});

t.test('unsigned integers use Rust syntax and bounds', async (t) => {
  const u16 = uintParser(65535);
  t.equal(value(u16('0')), 0);
  t.equal(value(u16('+80')), 80);
  t.equal(value(u16('65535')), 65535);
  for (const s of ['65536', '-1', '1.0', ' 1', '', '0x10', '1e3']) t.equal(value(u16(s)), 'INVALID', s);
  const min = uintParser(10, 5);
  t.equal(value(min('4')), 'INVALID');
  t.equal(value(min('5')), 5);
});

t.test('jitter is a finite number in [0, 100]', async (t) => {
  for (const [s, n] of [['0', 0], ['0.1', 0.1], ['.5', 0.5], ['1.', 1], ['100', 100], ['1e1', 10]] as const) {
    t.equal(value(parseJitter(s)), n, s);
  }
  for (const s of ['-0.1', '100.5', 'inf', 'NaN', '', '0,1', '1e400']) t.equal(value(parseJitter(s)), 'INVALID', s);
});

t.test('socket address: IP:PORT only, IPv6 in brackets', async (t) => {
  t.same(value(parseSocketAddr('0.0.0.0:4143')), { host: '0.0.0.0', port: 4143, family: 4 });
  t.same(value(parseSocketAddr('[::]:4143')), { host: '::', port: 4143, family: 6 });
  t.same(value(parseSocketAddr('[0:0::1]:80')), { host: '::1', port: 80, family: 6 });
  t.same(value(parseSocketAddr('127.0.0.1:0')), { host: '127.0.0.1', port: 0, family: 4 });
  for (const s of [
    'localhost:4143',
    'example.com:80',
    '::1:80',
    '[1.2.3.4]:80',
    '1.2.3.4',
    '1.2.3.4:',
    '1.2.3.4:65536',
    '[::1]',
    '[fe80::1%eth0]:80',
    '01.2.3.4:80',
    ' 1.2.3.4:80',
  ]) {
    t.equal(value(parseSocketAddr(s)), 'INVALID', s);
  }
  const name = parseSocketAddr('localhost:4143');
  t.match(name, { ok: false, detail: 'host is not an IP address' });
});

t.test('socket address list: one or two', async (t) => {
  t.same(value(parseSocketAddrs('127.0.0.1:4140')), [{ host: '127.0.0.1', port: 4140, family: 4 }]);
  t.same(value(parseSocketAddrs('127.0.0.1:4140, [::1]:4140')), [
    { host: '127.0.0.1', port: 4140, family: 4 },
    { host: '::1', port: 4140, family: 6 },
  ]);
  t.match(parseSocketAddrs('127.0.0.1:1,127.0.0.1:2,127.0.0.1:3'), { ok: false, detail: 'only two addresses are supported' });
  t.equal(value(parseSocketAddrs('')), 'INVALID');
  t.equal(value(parseSocketAddrs('127.0.0.1:1,')), 'INVALID');
});

t.test('control-plane address: DNS name or IP, with port', async (t) => {
  t.same(value(parseControlAddr('linkerd-dst-headless.linkerd.svc.cluster.local.:8086')), {
    host: 'linkerd-dst-headless.linkerd.svc.cluster.local.',
    port: 8086,
    hostKind: 'name',
  });
  t.same(value(parseControlAddr('Policy.Linkerd:8090')), { host: 'policy.linkerd', port: 8090, hostKind: 'name' });
  t.same(value(parseControlAddr('10.0.0.1:8086')), { host: '10.0.0.1', port: 8086, hostKind: 'ip' });
  t.same(value(parseControlAddr('[::1]:8086')), { host: '::1', port: 8086, hostKind: 'ip' });
  t.same(value(parseControlAddr('localhost.:8086')), { host: 'localhost.', port: 8086, hostKind: 'name' });
  for (const s of ['linkerd-dst', 'dst:', 'dst:http', '::1:8086', 'a..b:80', '1.2.3:80', 'bad_host!:80', ':80', 'a:70000']) {
    t.equal(value(parseControlAddr(s)), 'INVALID', s);
  }
  t.match(parseControlAddr('linkerd-dst'), { detail: 'address is missing a port' });
  t.match(parseControlAddr('-bad-:80'), { detail: 'address contains an invalid host' });
});

t.test('port range set', async (t) => {
  const ranges = (s: string): unknown => {
    const p = parsePortSet(s);
    return p.ok ? p.value.ranges : 'INVALID';
  };
  t.same(ranges(''), []);
  t.same(ranges('1-65535'), [[1, 65535]]);
  t.same(ranges('1-2,42-420'), [[1, 2], [42, 420]]);
  t.same(ranges('40,30,20,1'), [[1, 1], [20, 20], [30, 30], [40, 40]]);
  t.same(ranges('1,,,,2'), [[1, 2]], 'empty entries ignored; adjacent ports merge');
  t.same(ranges('1, 2,\t3- 5'), [[1, 5]], 'whitespace tolerated');
  t.same(ranges('1, , 2,'), [[1, 2]]);
  t.same(ranges('80-90,85-100,443'), [[80, 100], [443, 443]], 'overlaps merge');
  t.same(ranges('0'), [[0, 0]]);
  for (const s of ['asdf', '80, 443, http', '80,http-443', '80-79', '1,2,5-2', '-1', '1,2-,50', '69420', '1-69420', '1-2-3']) {
    t.equal(ranges(s), 'INVALID', s);
  }
  t.match(parsePortSet('80-79'), { detail: 'in "80-79" 79 is less than 80' });
});

t.test('networks', async (t) => {
  t.same(value(parseNetworks('10.0.0.0/8, fd00::/8,,')), [
    { family: 4, addr: '10.0.0.0', prefixLen: 8 },
    { family: 6, addr: 'fd00::', prefixLen: 8 },
  ]);
  t.same(value(parseNetworks('')), []);
  t.same(value(parseNetworks('0.0.0.0/0,::/0')), [
    { family: 4, addr: '0.0.0.0', prefixLen: 0 },
    { family: 6, addr: '::', prefixLen: 0 },
  ]);
  t.same(value(parseNetworks('10.1.2.3/8')), [{ family: 4, addr: '10.1.2.3', prefixLen: 8 }], 'host bits kept');
  t.same(value(parseNetworks('10.0.0.0/8,10.0.0.0/8')), [{ family: 4, addr: '10.0.0.0', prefixLen: 8 }]);
  for (const s of ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', '10.0.0/8', 'foo/8', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8']) {
    t.equal(value(parseNetworks(s)), 'INVALID', s);
  }
});

t.test('IP set', async (t) => {
  t.same(value(parseIpSet('127.0.0.1')), ['127.0.0.1']);
  t.same(value(parseIpSet('127.0.0.1,10.0.2.42, 192.168.0.69')), ['127.0.0.1', '10.0.2.42', '192.168.0.69']);
  t.same(value(parseIpSet('fd00:0::1,10.0.0.1,10.0.0.1')), ['fd00::1', '10.0.0.1'], 'canonical and de-duplicated');
  t.same(value(parseIpSet('')), []);
  for (const s of ['blaah', '10.4.0.555', '10.4.0.3,foobar,192.168.0.69', '10.0.1.1/24', '[::1]']) {
    t.equal(value(parseIpSet(s)), 'INVALID', s);
  }
});

t.test('DNS suffixes', async (t) => {
  t.same(value(parseDnsSuffixes('')), [], 'empty = none');
  t.same(value(parseDnsSuffixes(',,,')), []);
  t.same(value(parseDnsSuffixes('.')), ['.'], 'root = all');
  t.same(value(parseDnsSuffixes('a.b.c')), ['a.b.c']);
  t.same(value(parseDnsSuffixes('a.b.c.')), ['a.b.c.']);
  t.same(value(parseDnsSuffixes(' a.b.c. , d.e.f. ')), ['a.b.c.', 'd.e.f.']);
  t.same(value(parseDnsSuffixes('mUlti.CasE.nAmE')), ['multi.case.name']);
  t.equal(value(parseDnsSuffixes('a .b.c')), 'INVALID');
  t.equal(value(parseDnsSuffixes('..')), 'INVALID');
});

t.test('DNS name', async (t) => {
  const good = ['a', 'a.', 'd.c.b.a', 'd.c.b.a.', 'a1', '_m.foo.bar', 'm.foo.bar_', '1.a', 'xn--poema-9qae5a.com.br', 'A.B'];
  for (const s of good) t.equal(value(parseDnsName(s)), s.toLowerCase(), s);
  const bad = ['', '.', '..', '*', ' d.c.b.a.', 'd.c.b.a-', '*.a.', '.a.', 'example.com:80', '1', 'a.1', '1.2.3.4', '::1', '-a.b'];
  for (const s of bad) t.equal(value(parseDnsName(s)), 'INVALID', JSON.stringify(s));
  t.equal(value(parseDnsName(`${'a'.repeat(63)}.b`)), `${'a'.repeat(63)}.b`);
  t.equal(value(parseDnsName(`${'a'.repeat(64)}.b`)), 'INVALID', 'label longer than 63');
  const long = Array.from({ length: 64 }, () => 'abc').join('.');
  t.equal(value(parseDnsName(long)), 'INVALID', 'longer than 253');
});

t.test('TLS id: DNS first, then URI', async (t) => {
  t.same(value(parseTlsId('Some-Svc.svc.cluster.local')), { kind: 'dns', value: 'some-svc.svc.cluster.local' });
  t.same(value(parseTlsId('spiffe://root.linkerd.cluster.local/external-workload')), {
    kind: 'uri',
    value: 'spiffe://root.linkerd.cluster.local/external-workload',
  });
  t.same(value(parseTlsId('SPIFFE://host:1234/path')), { kind: 'uri', value: 'spiffe://host:1234/path' });
  t.equal(value(parseTlsId('foo.bar.')), 'INVALID', 'DNS-like ids must not end with a dot');
  t.equal(value(parseTlsId('')), 'INVALID');
  t.equal(value(parseTlsId('not a name')), 'INVALID');
});
