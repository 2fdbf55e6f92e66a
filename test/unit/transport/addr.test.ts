import net from 'node:net';
import t from 'tap';
import {
  formatAddr,
  isLoopbackIp,
  localAddrOf,
  normalizeMappedIPv4,
  remoteAddrOf,
  socketAddr,
} from '../../../src/transport/addr.js';

t.test('formatAddr brackets IPv6', async (t) => {
  t.equal(formatAddr({ host: '1.2.3.4', port: 80, family: 4 }), '1.2.3.4:80');
  t.equal(formatAddr({ host: '::1', port: 80, family: 6 }), '[::1]:80');
});

t.test('normalizeMappedIPv4 strips only a real ::ffff: IPv4 prefix', async (t) => {
  t.equal(normalizeMappedIPv4('::ffff:10.0.0.1'), '10.0.0.1');
  t.equal(normalizeMappedIPv4('::FFFF:10.0.0.1'), '10.0.0.1');
  t.equal(normalizeMappedIPv4('10.0.0.1'), '10.0.0.1');
  t.equal(normalizeMappedIPv4('::ffff:abcd'), '::ffff:abcd', 'not dotted IPv4 ⇒ unchanged');
  t.equal(normalizeMappedIPv4('2001:db8::1'), '2001:db8::1');
});

t.test('isLoopbackIp', async (t) => {
  for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) t.ok(isLoopbackIp(ip), ip);
  for (const ip of ['10.0.0.1', '128.0.0.1', '::2', '::', 'fe80::1', 'not-an-ip', '::ffff:10.0.0.1']) t.notOk(isLoopbackIp(ip), ip);
});

t.test('socketAddr infers the family and rejects non-IPs and bad ports', async (t) => {
  t.same(socketAddr('10.1.1.1', 4143), { host: '10.1.1.1', port: 4143, family: 4 });
  t.same(socketAddr('::ffff:10.1.1.1', 1), { host: '10.1.1.1', port: 1, family: 4 });
  t.same(socketAddr('fd00::1', 65535), { host: 'fd00::1', port: 65535, family: 6 });
  t.throws(() => socketAddr('example.com', 80), TypeError);
  t.throws(() => socketAddr('1.2.3.4', 65536), TypeError);
  t.throws(() => socketAddr('1.2.3.4', 1.5), TypeError);
});

t.test('remoteAddrOf / localAddrOf on a connected dual-stack socket', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(port, '127.0.0.1');
  const s = await accepted;
  t.teardown(() => {
    client.destroy();
    s.destroy();
  });
  t.same(localAddrOf(s), { host: '127.0.0.1', port, family: 4 }, 'mapped local address normalised');
  t.equal(remoteAddrOf(s)?.family, 4);
  t.equal(remoteAddrOf(new net.Socket()), undefined, 'never connected');
  t.equal(localAddrOf(new net.Socket()), undefined);
});
