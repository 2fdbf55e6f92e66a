// Address parsing (both families, mapped, zones), wire address formatting, and the Rust-regex subset.
import t from 'tap';
import { parseIpAddr } from '../../../../src/policy/inbound/index.js';
import { ipv4FromUint32, ipv6FromHalves } from '../../../../src/policy/inbound/ip.js';
import { compileRustRegex, compileWholeMatch, InvalidRegexError } from '../../../../src/policy/inbound/regex.js';

t.test('parseIpAddr', async (t) => {
  t.same(parseIpAddr('10.0.0.1'), { family: 4, v4: 0x0a000001 });
  t.same(parseIpAddr('255.255.255.255'), { family: 4, v4: 0xffffffff });
  t.same(parseIpAddr('::ffff:10.0.0.1'), { family: 4, v4: 0x0a000001 }, 'mapped ⇒ IPv4');
  t.same(parseIpAddr('::FFFF:a00:1'), { family: 4, v4: 0x0a000001 }, 'mapped in hex');
  t.same(parseIpAddr('::1'), { family: 6, w: [0, 0, 0, 1] });
  t.same(parseIpAddr('::'), { family: 6, w: [0, 0, 0, 0] });
  t.same(parseIpAddr('fd00::1:2'), { family: 6, w: [0xfd000000, 0, 0, 0x00010002] });
  t.same(parseIpAddr('1:2:3:4:5:6:7:8'), { family: 6, w: [0x00010002, 0x00030004, 0x00050006, 0x00070008] });
  t.same(parseIpAddr('1:2:3:4:5:6:1.2.3.4'), { family: 6, w: [0x00010002, 0x00030004, 0x00050006, 0x01020304] }, 'embedded IPv4 tail');
  t.same(parseIpAddr('::1.2.3.4'), { family: 6, w: [0, 0, 0, 0x01020304] }, 'IPv4-compatible (not mapped) stays IPv6');
  t.same(parseIpAddr('1::'), { family: 6, w: [0x00010000, 0, 0, 0] });
  t.same(parseIpAddr('fe80::1%eth0'), { family: 6, w: [0xfe800000, 0, 0, 1] }, 'zone ignored');
  for (const bad of ['', '1.2.3', '1.2.3.256', '01.2.3.4x', 'host', '1::2::3', '[::1]', '::1/128', '12345::']) {
    t.equal(parseIpAddr(bad), undefined, `${JSON.stringify(bad)} is not an address`);
  }
});

t.test('wire address formatting', async (t) => {
  t.equal(ipv4FromUint32(0x0a000001), '10.0.0.1');
  t.equal(ipv4FromUint32(0), '0.0.0.0');
  t.equal(ipv4FromUint32(0xffffffff), '255.255.255.255');
  t.equal(ipv6FromHalves(0n, 0n), '::');
  t.equal(ipv6FromHalves(0n, 1n), '::1');
  t.equal(ipv6FromHalves(0xfd00000000000000n, 0n), 'fd00::');
  t.equal(ipv6FromHalves(0x20010db800000000n, 0x0000000000000042n), '2001:db8::42');
  t.equal(ipv6FromHalves(0x0001000200030004n, 0x0005000600070008n), '1:2:3:4:5:6:7:8');
});

t.test('whole-value regex matching (upstream anchoring rule)', async (t) => {
  const m = (p: string, v: string) => compileWholeMatch(p)(v);
  t.ok(m('/foo/\\d+', '/foo/4321'));
  t.notOk(m('/foo/\\d+', '/foo/4abc'));
  t.notOk(m('/foo/\\d+', '/bar/foo/4'), 'must start at 0');
  t.ok(m('bar*', 'ba'));
  t.notOk(m('bar*', 'barro'));
  t.notOk(m('a|ab', 'ab'), 'leftmost-first match is "a", which does not span the value (as Rust find)');
  t.ok(m('ab|a', 'ab'));
  t.ok(m('.*', ''), 'empty value');
  t.ok(m('(?i)ABC', 'abc'), 'leading inline flags');
  t.ok(m('(?is)a.b', 'A\nB'));
  t.ok(m('(?P<id>[0-9]+)', '42'), 'Rust named groups');
  t.ok(m('\\p{L}+', 'héllo'), 'Unicode classes');
  t.ok(m('\\-x', '-x'), 'patterns invalid under the u flag still compile without it');
  const re = compileRustRegex('x');
  t.equal(re.flags, 'u');
  for (const bad of ['(', '[', '*', '(?x)a', '(?U)a', 'a(?i)b', 'a(?i:b)', '\\Aa', 'a\\z']) {
    t.throws(() => compileRustRegex(bad), InvalidRegexError, `${bad} rejected`);
  }
  t.doesNotThrow(() => compileRustRegex('\\\\A'), 'an escaped backslash before A is a literal');
});
