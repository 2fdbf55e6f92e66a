// Exported helpers other modules rely on: loopback test, address rendering, IP canonical form, sets and suffixes.
import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import {
  EMPTY_PORT_SET,
  canonicalIp,
  dnsSuffixContains,
  dnsSuffixesContain,
  formatNetwork,
  formatPortSet,
  formatSocketAddr,
  isLoopbackHost,
  makeNetworkMatcher,
  portSetFromRanges,
  portSetHas,
  portSetWith,
} from '../../../src/config/index.js';

t.test('isLoopbackHost', async (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0::1', 'localhost', 'localhost.', 'LocalHost.']) {
    t.ok(isLoopbackHost(h), h);
  }
  for (const h of ['10.0.0.1', '::', '::ffff:127.0.0.1', 'mlocalhost.', 'localhost1', 'localhost.localdomain', '']) {
    t.notOk(isLoopbackHost(h), h);
  }
});

t.test('formatSocketAddr brackets IPv6 only', async (t) => {
  t.equal(formatSocketAddr({ host: '::', port: 4143 }), '[::]:4143');
  t.equal(formatSocketAddr({ host: '0.0.0.0', port: 4143 }), '0.0.0.0:4143');
  t.equal(formatSocketAddr({ host: 'dst.linkerd.', port: 8086 }), 'dst.linkerd.:8086');
});

t.test('canonicalIp matches the form Node reports for sockets', async (t) => {
  t.equal(canonicalIp('0:0:0:0:0:0:0:1'), '::1');
  t.equal(canonicalIp('FD00:0:0::0001'), 'fd00::1');
  t.equal(canonicalIp('0:0:0:0:0:ffff:a00:1'), '::ffff:10.0.0.1');
  t.equal(canonicalIp('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
  t.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  t.equal(canonicalIp('fe80::1%eth0'), undefined);
  t.equal(canonicalIp('010.0.0.1'), undefined);
  // A real socket: the address Node reports is already canonical.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
  const { address } = server.address() as AddressInfo;
  t.equal(canonicalIp('0000:0000:0000:0000:0000:0000:0000:0001'), address);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

t.test('port sets', async (t) => {
  const set = portSetFromRanges([[4444, 4450], [25, 25], [3306, 3306], [587, 587], [26, 30]]);
  t.same(set.ranges, [[25, 30], [587, 587], [3306, 3306], [4444, 4450]]);
  for (const p of [25, 28, 30, 587, 3306, 4444, 4447, 4450]) t.ok(portSetHas(set, p), `has ${p}`);
  for (const p of [0, 24, 31, 586, 588, 4443, 4451, 65535]) t.notOk(portSetHas(set, p), `lacks ${p}`);
  t.notOk(portSetHas(EMPTY_PORT_SET, 80));
  t.equal(formatPortSet(set), '25-30,587,3306,4444-4450');
  const more = portSetWith(set, 4191, 31);
  t.same(more.ranges, [[25, 31], [587, 587], [3306, 3306], [4191, 4191], [4444, 4450]]);
  t.not(more, set, 'a new set; the original is untouched');
  t.ok(Object.isFrozen(set) && Object.isFrozen(set.ranges) && Object.isFrozen(set.ranges[0]));
});

t.test('network matcher', async (t) => {
  const nets = [
    { family: 4 as const, addr: '10.0.0.0', prefixLen: 8 },
    { family: 6 as const, addr: 'fd00::', prefixLen: 8 },
  ];
  const inside = makeNetworkMatcher(nets);
  t.ok(inside('10.42.0.7'));
  t.ok(inside('fd12::1'));
  t.notOk(inside('11.0.0.1'));
  t.notOk(inside('fe80::1'));
  t.notOk(inside('not-an-ip'));
  t.notOk(makeNetworkMatcher([])('10.0.0.1'));
  t.equal(formatNetwork(nets[1]!), 'fd00::/8');
});

t.test('DNS suffix matching', async (t) => {
  t.ok(dnsSuffixContains('.', 'anything.example'));
  t.ok(dnsSuffixContains('svc.cluster.local.', 'web.ns.svc.cluster.local'));
  t.ok(dnsSuffixContains('svc.cluster.local', 'web.ns.svc.cluster.local.'));
  t.ok(dnsSuffixContains('svc.cluster.local.', 'SVC.cluster.local'));
  t.notOk(dnsSuffixContains('cluster.local', 'web.ns.svc.mycluster.local'));
  t.notOk(dnsSuffixContains('svc.cluster.local', 'cluster.local'));
  t.ok(dnsSuffixesContain(['a.b', 'c.d'], 'x.c.d'));
  t.notOk(dnsSuffixesContain([], 'x.c.d'), 'empty list = none');
});
