// Parses real and synthetic ClientHellos: SNI/ALPN extraction, prefixes, hostile lengths, fuzzing.
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_TLS_VECTOR, parseClientHello, type ClientHelloResult } from '../../../src/tls/client-hello.js';
import { alpnExtension, buildClientHello, extension, sniExtension, u16, u8, vec16 } from './helpers/hello-builder.js';

interface FixtureEntry {
  readonly file: string;
  readonly client: string;
  readonly sni?: string;
  readonly alpn: readonly string[];
}

const fixtureDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/client-hello');
const fixtures = (JSON.parse(readFileSync(path.join(fixtureDir, 'index.json'), 'utf8')) as FixtureEntry[])
  .map((e) => ({ ...e, bytes: readFileSync(path.join(fixtureDir, e.file)) }));
const fixture = (name: string): Buffer => {
  const f = fixtures.find((e) => e.file === `${name}.bin`);
  if (f === undefined) throw new Error(`no fixture ${name}`);
  return Buffer.from(f.bytes);
};

t.test('real ClientHellos captured from openssl, curl and node', async (t) => {
  t.ok(fixtures.length >= 7, 'all captured clients are present');
  for (const f of fixtures) {
    t.same(parseClientHello(f.bytes), { kind: 'client-hello', sni: f.sni, alpn: f.alpn }, f.client);
    t.equal(f.bytes.length, 5 + f.bytes.readUInt16BE(3), `${f.file} is exactly one record`);
  }
});

t.test('every strict prefix of a real hello is incomplete; the whole record decides', async (t) => {
  for (const f of fixtures) {
    let firstNonIncomplete = -1;
    for (let i = 0; i <= f.bytes.length; i++) {
      if (parseClientHello(f.bytes.subarray(0, i)).kind !== 'incomplete') {
        firstNonIncomplete = i;
        break;
      }
    }
    t.equal(firstNonIncomplete, f.bytes.length, `${f.file}: incomplete until byte ${f.bytes.length}`);
  }
});

t.test('bytes after the first record do not change the answer', async (t) => {
  for (const f of fixtures) {
    const withData = Buffer.concat([f.bytes, Buffer.from('\x17\x03\x03\x00\x10garbage-after-hello')]);
    t.same(parseClientHello(withData), parseClientHello(f.bytes), f.file);
  }
});

t.test('record version 3.3 is accepted like 3.1', async (t) => {
  const b = fixture('openssl-sni');
  b[2] = 3;
  t.same(parseClientHello(b), { kind: 'client-hello', sni: 'web.example.com', alpn: [] });
});

t.test('the offered ALPN list is reported in order (transport.l5d.io/v1 recognisable)', async (t) => {
  const r = parseClientHello(buildClientHello({ extensions: [sniExtension('a.b'), alpnExtension('transport.l5d.io/v1', 'h2')] }));
  t.same(r, { kind: 'client-hello', sni: 'a.b', alpn: ['transport.l5d.io/v1', 'h2'] });
  const before = parseClientHello(buildClientHello({ extensions: [alpnExtension('h2'), sniExtension('a.b')] }));
  t.same(before, { kind: 'client-hello', sni: 'a.b', alpn: ['h2'] }, 'ALPN before SNI');
});

t.test('plaintext is not TLS, decided from the first byte', async (t) => {
  const http = Buffer.from('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');
  t.same(parseClientHello(http), { kind: 'not-tls' });
  t.same(parseClientHello(http.subarray(0, 1)), { kind: 'not-tls' });
  t.same(parseClientHello(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), { kind: 'not-tls' });
  t.same(parseClientHello(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')), { kind: 'not-tls' });
  t.same(parseClientHello(Buffer.alloc(0)), { kind: 'incomplete' });
});

t.test('SSLv2/SSLv3-style and other non-ClientHello records are not TLS', async (t) => {
  const sslv2 = Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10]);
  t.same(parseClientHello(sslv2), { kind: 'not-tls' }, 'SSLv2-compatible hello');
  t.same(parseClientHello(buildClientHello({ recordVersion: [3, 0], extensions: [] })), { kind: 'not-tls' }, 'SSLv3 record version');
  t.same(parseClientHello(buildClientHello({ recordVersion: [3, 2], extensions: [] })), { kind: 'not-tls' }, 'record version 3.2');
  t.same(parseClientHello(buildClientHello({ recordVersion: [2, 1], extensions: [] })), { kind: 'not-tls' }, 'major version 2');
  t.same(parseClientHello(buildClientHello({ recordType: 23, extensions: [] })), { kind: 'not-tls' }, 'application data record');
  t.same(parseClientHello(buildClientHello({ handshakeType: 2, extensions: [] }).subarray(0, 6)), { kind: 'not-tls' },
    'a ServerHello is rejected as soon as its type byte arrives');
  t.same(parseClientHello(buildClientHello({ legacyVersion: [3, 1], extensions: [sniExtension('a.b')] })), { kind: 'not-tls' },
    'ClientHello legacy_version 0x0301');
  const hugeHandshake = buildClientHello({ extensions: [] });
  hugeHandshake[6] = 1;
  t.same(parseClientHello(hugeHandshake.subarray(0, 7)), { kind: 'not-tls' }, 'handshake length high byte must be 0');
  t.same(parseClientHello(Buffer.from([22, 3, 1, 0, 2, 1, 0])), { kind: 'not-tls' }, 'record too short for a handshake header');
});

t.test('hostile lengths: any vector over 8192 is not TLS', async (t) => {
  t.equal(MAX_TLS_VECTOR, 8192);
  t.same(parseClientHello(Buffer.from([22, 3, 1, 0x20, 0x01])), { kind: 'not-tls' }, 'record length 8193, known from 5 bytes');
  t.same(parseClientHello(Buffer.from([22, 3, 1, 0xff, 0xff, 1, 0])), { kind: 'not-tls' }, 'record length 65535');
  t.same(parseClientHello(Buffer.from([22, 3, 1, 0x20, 0x00])), { kind: 'incomplete' }, 'record length 8192 may still come');
  t.same(parseClientHello(buildClientHello({ extensions: [], handshakeLength: 0x2001 }).subarray(0, 9)), { kind: 'not-tls' },
    'handshake longer than 8192');
  t.same(parseClientHello(buildClientHello({ extensions: [sniExtension('a.b')], handshakeLength: 0x1000 }).subarray(0, 9)),
    { kind: 'not-tls' }, 'handshake longer than its record');
  t.same(parseClientHello(buildClientHello({ extensions: [sniExtension('a.b')], cipherSuitesLength: 0x2001 })), { kind: 'not-tls' },
    'cipher suites vector 8193');
  t.same(parseClientHello(buildClientHello({ extensions: [sniExtension('a.b')], cipherSuitesLength: 0x1000 })), { kind: 'not-tls' },
    'cipher suites overrun the hello');
  t.same(parseClientHello(buildClientHello({ extensions: [sniExtension('a.b')], extensionsLength: 0xffff })), { kind: 'not-tls' },
    'extensions vector 65535');
  t.same(parseClientHello(buildClientHello({ extensions: [extension(0x15, Buffer.alloc(4)), sniExtension('a.b')], extensionsLength: 0x2001 })),
    { kind: 'not-tls' }, 'extensions vector 8193');
  t.same(parseClientHello(buildClientHello({ extensions: [extension(0x15, Buffer.alloc(4), 0x2001), sniExtension('a.b')] })),
    { kind: 'not-tls' }, 'an extension before SNI claiming 8193 bytes');
  const longName = Buffer.concat([u8(0), u16(0x2001), Buffer.from('a.b')]);
  t.same(parseClientHello(buildClientHello({ extensions: [extension(0, vec16(longName))] })), { kind: 'not-tls' },
    'host name claiming 8193 bytes');
  t.same(parseClientHello(buildClientHello({ extensions: [extension(0, vec16(Buffer.from([0, 0, 3, 0x61]), 0x2001))] })),
    { kind: 'not-tls' }, 'server_name_list claiming 8193 bytes');
  t.same(parseClientHello(buildClientHello({ extensions: [extension(0, Buffer.from([0]))] })), { kind: 'not-tls' },
    'server_name extension too short for its list length');
  t.same(parseClientHello(buildClientHello({ sessionId: Buffer.alloc(255, 1), extensions: [], handshakeLength: 40 }).subarray(0, 50)),
    { kind: 'incomplete' }, 'a lying session id length waits for the record, never reads beyond it');
});

t.test('SNI must be a DNS name, else "no SNI" (still a ClientHello)', async (t) => {
  const sniOf = (...e: Parameters<typeof sniExtension>): ClientHelloResult =>
    parseClientHello(buildClientHello({ extensions: [sniExtension(...e)] }));
  t.same(sniOf('Web.NS1.Example.COM'), { kind: 'client-hello', sni: 'web.ns1.example.com', alpn: [] }, 'lower-cased');
  t.same(sniOf('under_score.example.com'), { kind: 'client-hello', sni: 'under_score.example.com', alpn: [] });
  t.same(sniOf('trailing.dot.'), { kind: 'client-hello', sni: 'trailing.dot.', alpn: [] });
  for (const bad of ['127.0.0.1', 'bad name.com', '-lead.example.com', 'trail-.example.com', 'a..b', '', '*.wild.com', 'x'.repeat(64) + '.com']) {
    t.same(sniOf(bad), { kind: 'client-hello', sni: undefined, alpn: [] }, JSON.stringify(bad));
  }
  t.same(sniOf({ type: 0, name: Buffer.from('caf\xc3\xa9.example', 'latin1') }), { kind: 'client-hello', sni: undefined, alpn: [] }, 'non-ASCII');
  t.same(sniOf({ type: 1, name: 'other-type.example' }, 'host.example'), { kind: 'client-hello', sni: 'host.example', alpn: [] },
    'first entry of name type 0');
  t.same(sniOf({ type: 1, name: 'other-type.example' }), { kind: 'client-hello', sni: undefined, alpn: [] }, 'no host_name entry');
  t.same(sniOf('first.example', 'second.example'), { kind: 'client-hello', sni: 'first.example', alpn: [] });
  t.same(parseClientHello(buildClientHello({ extensions: [sniExtension('one.example'), sniExtension('two.example')] })),
    { kind: 'client-hello', sni: 'one.example', alpn: [] }, 'duplicate extension: first wins');
});

t.test('hellos without SNI', async (t) => {
  t.same(parseClientHello(buildClientHello()), { kind: 'client-hello', sni: undefined, alpn: [] }, 'no extensions block');
  t.same(parseClientHello(buildClientHello({ extensions: [extension(0x0a, Buffer.from([0, 2, 0, 0x1d]))] })),
    { kind: 'client-hello', sni: undefined, alpn: [] }, 'extensions without server_name');
  t.same(parseClientHello(fixture('openssl-nosni')), { kind: 'client-hello', sni: undefined, alpn: [] }, 'openssl -noservername');
});

t.test('malformed data after the SNI ends the scan but keeps the SNI; a bad ALPN list is just none', async (t) => {
  const tail = extension(0x15, Buffer.alloc(10), 0x1fff);
  t.same(parseClientHello(buildClientHello({ extensions: [sniExtension('kept.example'), tail] })),
    { kind: 'client-hello', sni: 'kept.example', alpn: [] });
  const badAlpn = extension(16, Buffer.concat([u16(5), u8(9), Buffer.from('h2')]));
  t.same(parseClientHello(buildClientHello({ extensions: [badAlpn, sniExtension('a.example')] })),
    { kind: 'client-hello', sni: 'a.example', alpn: [] });
  const emptyName = extension(16, Buffer.concat([u16(1), u8(0)]));
  t.same(parseClientHello(buildClientHello({ extensions: [emptyName] })), { kind: 'client-hello', sni: undefined, alpn: [] });
});

t.test('never throws on mutated, truncated and random input (views into larger buffers)', async (t) => {
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const kinds = new Set<string>();
  let runs = 0;
  for (const f of fixtures) {
    for (let i = 0; i < 400; i++) {
      const b = Buffer.from(f.bytes);
      const flips = 1 + Math.floor(rand() * 4);
      for (let j = 0; j < flips; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.3 ? Math.floor(rand() * b.length) : b.length;
      // A view into a larger buffer: reading past the view would see these 0xff bytes.
      const backing = Buffer.alloc(cut + 64, 0xff);
      b.copy(backing, 0, 0, cut);
      const r = parseClientHello(backing.subarray(0, cut));
      kinds.add(r.kind);
      runs++;
    }
  }
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(Math.floor(rand() * 600));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
    if (b.length > 0 && rand() < 0.5) b[0] = 22;
    kinds.add(parseClientHello(b).kind);
    runs++;
  }
  t.ok(runs > 4000);
  t.ok([...kinds].every((k) => ['incomplete', 'not-tls', 'client-hello'].includes(k)), [...kinds].join(','));
});

t.test('the result reads a view of a larger buffer correctly', async (t) => {
  const hello = fixture('curl');
  const big = Buffer.concat([Buffer.from('prefix-bytes'), hello, Buffer.from('suffix')]);
  const view = new Uint8Array(big.buffer, big.byteOffset + 12, hello.length);
  t.same(parseClientHello(view), { kind: 'client-hello', sni: 'curl.example.com', alpn: ['h2', 'http/1.1'] });
});
