import net from 'node:net';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { socketAddr } from '../../../src/transport/addr.js';
import { nativeSockoptAvailable } from '../../../src/transport/native-sockopt.js';
import {
  OrigDstError,
  fixedOrigDst,
  formatIPv6,
  linuxOrigDst,
  localAddrOrigDst,
  parseSockaddr,
} from '../../../src/transport/orig-dst.js';
import { createNetns, netnsUsable, nsMust, spawnTsInNetns } from './fixtures/netns.js';

const probe = fileURLToPath(new URL('./fixtures/netns-probe.ts', import.meta.url));
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function hostU16(n: number): Buffer {
  const b = Buffer.alloc(2);
  if (littleEndian) b.writeUInt16LE(n);
  else b.writeUInt16BE(n);
  return b;
}

/** A connected loopback pair: [client, accepted]. */
async function loopbackPair(t: Test, host = '127.0.0.1'): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.teardown(() => server.close());
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, host);
  const [s] = await Promise.all([accepted, new Promise((resolve) => client.once('connect', resolve))]);
  t.teardown(() => {
    client.destroy();
    s.destroy();
  });
  return [client, s];
}

t.test('parseSockaddr decodes sockaddr_in (port big-endian)', async (t) => {
  const raw = Buffer.concat([hostU16(2), Buffer.from([0x1f, 0x90, 10, 1, 2, 3]), Buffer.alloc(8)]);
  t.same(parseSockaddr(raw), { host: '10.1.2.3', port: 8080, family: 4 });
});

t.test('parseSockaddr decodes sockaddr_in6', async (t) => {
  const addr = Buffer.from('20010db8000000000000000000000010', 'hex');
  const raw = Buffer.concat([hostU16(10), Buffer.from([0x00, 0x50]), Buffer.alloc(4), addr, Buffer.alloc(4)]);
  t.same(parseSockaddr(raw), { host: '2001:db8::10', port: 80, family: 6 });
  const mapped = Buffer.from('00000000000000000000ffff0a000001', 'hex');
  const rawMapped = Buffer.concat([hostU16(10), Buffer.from([0x01, 0xbb]), Buffer.alloc(4), mapped, Buffer.alloc(4)]);
  t.same(parseSockaddr(rawMapped), { host: '10.0.0.1', port: 443, family: 4 }, 'IPv4-mapped ⇒ IPv4');
});

t.test('parseSockaddr rejects unknown families and short input', async (t) => {
  t.throws(() => parseSockaddr(Buffer.concat([hostU16(1), Buffer.alloc(14)])), OrigDstError);
  t.throws(() => parseSockaddr(Buffer.alloc(2)), OrigDstError);
});

t.test('formatIPv6 follows RFC 5952', async (t) => {
  const f = (hex: string): string => formatIPv6(Buffer.from(hex, 'hex'));
  t.equal(f('00000000000000000000000000000001'), '::1');
  t.equal(f('00000000000000000000000000000000'), '::');
  t.equal(f('20010db8000000010000000000000001'), '2001:db8:0:1::1');
  t.equal(f('20010db8000000000001000000000001'), '2001:db8::1:0:0:1', 'first of equal runs');
  t.equal(f('20010db8000100010001000100010001'), '2001:db8:1:1:1:1:1:1');
  t.equal(f('20010db8000000010001000100010001'), '2001:db8:0:1:1:1:1:1', 'a single zero group stays');
  t.equal(f('fe800000000000000000000000000000'), 'fe80::');
});

t.test('localAddrOrigDst and fixedOrigDst', async (t) => {
  const [client, accepted] = await loopbackPair(t);
  t.same(localAddrOrigDst().lookup(accepted), { host: '127.0.0.1', port: client.remotePort, family: 4 });
  const fixed = fixedOrigDst(() => socketAddr('10.0.0.9', 80));
  t.same(fixed.lookup(accepted), { host: '10.0.0.9', port: 80, family: 4 });
  accepted.destroy();
  t.throws(() => localAddrOrigDst().lookup(accepted), OrigDstError, 'closed socket');
});

const noNative = nativeSockoptAvailable() ? false : 'koffi/libc unavailable';
const noNetns = noNative !== false ? noNative : ((await netnsUsable()) ?? false);

t.test('linuxOrigDst fails with a typed error when nothing was redirected', { skip: noNative }, async (t) => {
  const [, accepted] = await loopbackPair(t);
  const err = t.throws(() => linuxOrigDst().lookup(accepted), OrigDstError) as OrigDstError;
  t.match(err.message, /SO_ORIGINAL_DST lookup failed/);
  t.type(err.errno, 'string', `errno reported (${String(err.errno)})`);
  accepted.destroy();
  t.throws(() => linuxOrigDst().lookup(accepted), OrigDstError, 'destroyed socket');
});

t.test('linuxOrigDst inside a netns with iptables REDIRECT', { skip: noNetns }, async (t) => {
  const redirect = async (
    t: Test,
    opts: { ipt: string; listen: string; connect: string; extraAddr?: string },
  ): Promise<Record<string, unknown>> => {
    const ns = await createNetns(t);
    if (opts.extraAddr !== undefined) await nsMust(ns, 'ip', ['addr', 'add', opts.extraAddr, 'dev', 'lo']);
    const child = spawnTsInNetns(t, ns, probe, ['orig-dst', opts.listen, opts.connect, '9999']);
    const { port } = (await child.next()) as { port: number };
    await nsMust(ns, opts.ipt, ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '9999', '-j', 'REDIRECT', '--to-ports', String(port)]);
    child.send('go');
    return child.next();
  };

  t.test('IPv4 to 127.0.0.1', async (t) => {
    const r = await redirect(t, { ipt: 'iptables', listen: '127.0.0.1', connect: '127.0.0.1' });
    t.same(r.origDst, '127.0.0.1:9999', JSON.stringify(r));
    t.equal(r.family, 4);
    t.not(r.local, '127.0.0.1:9999', 'the socket itself is bound elsewhere');
  });

  t.test('IPv4 to a non-loopback address', async (t) => {
    const r = await redirect(t, { ipt: 'iptables', listen: '0.0.0.0', connect: '192.0.2.10', extraAddr: '192.0.2.10/32' });
    t.same(r.origDst, '192.0.2.10:9999', JSON.stringify(r));
  });

  t.test('IPv4 client of a dual-stack listener (IPv4-mapped peer)', async (t) => {
    const r = await redirect(t, { ipt: 'iptables', listen: '::', connect: '127.0.0.1' });
    t.match(r.remote, /^::ffff:127\.0\.0\.1$/, 'peer is IPv4-mapped');
    t.same(r.origDst, '127.0.0.1:9999', JSON.stringify(r));
    t.equal(r.family, 4);
  });

  t.test('IPv6 with ip6tables', async (t) => {
    const r = await redirect(t, { ipt: 'ip6tables', listen: '::', connect: '2001:db8::10', extraAddr: '2001:db8::10/128' }).catch(
      (err: Error) => ({ setupError: err.message }),
    );
    if ('setupError' in r) {
      t.comment(`ip6tables REDIRECT unusable here: ${String(r.setupError)}`);
      t.plan(0, 'skipped: no IPv6 NAT in this kernel');
      return;
    }
    t.same(r.origDst, '[2001:db8::10]:9999', JSON.stringify(r));
    t.equal(r.family, 6);
  });
});
