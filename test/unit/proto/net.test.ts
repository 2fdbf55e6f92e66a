// The net.* encodings every control-plane message depends on: fixed32 IPv4, two fixed64 IPv6 halves, CIDRs.
import t from 'tap';
import { decodeMessage, encodeMessage, ipAddress, ipNetwork, ipText, tcpAddress, tcpText } from '../../support/control-plane-codec.js';

t.test('TcpAddress 10.0.0.1:8080 has exactly the bytes a Go or Rust control plane writes', async (t) => {
  const bytes = encodeMessage('io.linkerd.proxy.net.TcpAddress', { ip: { ipv4: 0x0a000001 }, port: 8080 });
  const expected = Buffer.from([
    0x0a, 0x05, // field 1 (ip), length-delimited, 5 bytes
    0x0d, 0x01, 0x00, 0x00, 0x0a, // IPAddress field 1 (ipv4), fixed32 0x0A000001 little-endian
    0x10, 0x90, 0x3f, // field 2 (port), varint 8080
  ]);
  t.same(bytes, expected);
  t.same(decodeMessage('io.linkerd.proxy.net.TcpAddress', expected), { ip: { ipv4: 0x0a000001, ip: 'ipv4' }, port: 8080 });
  t.same(tcpAddress('10.0.0.1', 8080), { ip: { ipv4: 0x0a000001 }, port: 8080 });
});

t.test('an IPv6 address keeps all 128 bits (halves decode as decimal strings)', async (t) => {
  const ip = 'fd00:10:244:1::5';
  const wire = ipAddress(ip);
  // 0xfd00001002440001 needs 64 bits: a JS number would round it.
  t.same(wire, { ipv6: { first: 0xfd00001002440001n.toString(), last: '5' } });
  const bytes = encodeMessage('io.linkerd.proxy.net.IPAddress', wire);
  t.same(bytes, Buffer.from([0x12, 0x12, 0x09, 0x01, 0x00, 0x44, 0x02, 0x10, 0x00, 0x00, 0xfd, 0x11, 0x05, 0, 0, 0, 0, 0, 0, 0]));
  const decoded = decodeMessage('io.linkerd.proxy.net.IPAddress', bytes);
  t.same(decoded, { ipv6: { first: '18230571360353255425', last: '5' }, ip: 'ipv6' });
  t.equal(BigInt('18230571360353255425'), 0xfd00001002440001n);
  t.equal(ipText(decoded), ip);
  t.equal(ipText(decodeMessage('io.linkerd.proxy.net.IPAddress', encodeMessage('io.linkerd.proxy.net.IPAddress', ipAddress('2001:db8:85a3:8d3:1319:8a2e:370:7348')))), '2001:db8:85a3:8d3:1319:8a2e:370:7348');
  t.equal(ipText(decodeMessage('io.linkerd.proxy.net.IPAddress', encodeMessage('io.linkerd.proxy.net.IPAddress', ipAddress('::ffff:10.1.2.3')))), '::ffff:a01:203');
});

t.test('0.0.0.0/0 and ::/0 survive even though every number in them is zero', async (t) => {
  const v4 = decodeMessage('io.linkerd.proxy.net.IPNetwork', encodeMessage('io.linkerd.proxy.net.IPNetwork', ipNetwork('0.0.0.0/0')));
  t.same(v4, { ip: { ipv4: 0, ip: 'ipv4' } }, 'the ipv4 arm is present; prefix_len 0 is absent');
  t.equal(ipText(v4.ip as Record<string, unknown>), '0.0.0.0');
  const v6 = decodeMessage('io.linkerd.proxy.net.IPNetwork', encodeMessage('io.linkerd.proxy.net.IPNetwork', ipNetwork('::/0')));
  t.same(v6, { ip: { ipv6: {}, ip: 'ipv6' } });
  t.equal(ipText(v6.ip as Record<string, unknown>), '::');
});

t.test('address text helpers', async (t) => {
  t.equal(tcpText(decodeMessage('io.linkerd.proxy.net.TcpAddress', encodeMessage('io.linkerd.proxy.net.TcpAddress', tcpAddress('fd00::1', 80)))), '[fd00::1]:80');
  t.equal(tcpText({ ip: { ipv4: 0xc0a80001 }, port: 443 }), '192.168.0.1:443');
  t.equal(ipText({}), undefined);
  t.throws(() => ipAddress('web.svc'));
});
