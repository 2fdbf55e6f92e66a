// The transport header codec: wire layout, incremental decoding at every split, and what it refuses.
import t from 'tap';
import {
  MAX_TRANSPORT_HEADER_MESSAGE_LEN,
  TRANSPORT_HEADER_ALPN,
  TRANSPORT_HEADER_CAPACITY,
  TRANSPORT_HEADER_PREFACE,
  TransportHeaderDecoder,
  decodeHeaderMessage,
  encodeTransportHeader,
  type TransportHeader,
  type TransportHeaderFeed,
} from '../../../src/transport/transport-header.js';
import { protoType } from '../../../src/proto/load.js';

const PREFACE = Buffer.from('transport.l5d.io/v1\r\n\r\n', 'latin1');

/** Preface + big-endian length + the given message bytes. */
function framed(message: readonly number[] | Buffer): Buffer {
  const msg = Buffer.from(message);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  return Buffer.concat([PREFACE, len, msg]);
}

function decodeAll(bytes: Buffer): TransportHeaderFeed {
  return new TransportHeaderDecoder().feed(bytes);
}

t.test('constants', async (t) => {
  t.equal(TRANSPORT_HEADER_ALPN, 'transport.l5d.io/v1');
  t.equal(TRANSPORT_HEADER_PREFACE, 'transport.l5d.io/v1\r\n\r\n');
  t.equal(Buffer.byteLength(TRANSPORT_HEADER_PREFACE), 23);
  t.equal(TRANSPORT_HEADER_CAPACITY, 65536);
  t.equal(MAX_TRANSPORT_HEADER_MESSAGE_LEN, 65536 - 27);
});

t.test('encoding is preface, big-endian length, then the protobuf message, byte for byte', async (t) => {
  // port 4040 = 0xfc8 → varint c8 1f; name "a.b"; session_protocol { http2 {} } = 1a 02 12 00.
  const bytes = encodeTransportHeader({ port: 4040, name: 'a.b', sessionProtocol: 'http2' });
  const expectedMsg = [0x08, 0xc8, 0x1f, 0x12, 0x03, 0x61, 0x2e, 0x62, 0x1a, 0x02, 0x12, 0x00];
  t.same([...bytes], [...framed(expectedMsg)]);
  t.same([...bytes.subarray(23, 27)], [0, 0, 0, expectedMsg.length], 'length is a 4-byte big-endian u32');

  t.same([...encodeTransportHeader({ port: 80 })], [...framed([0x08, 0x50])], 'opaque, no name: just the port');
  t.same([...encodeTransportHeader({ port: 80, sessionProtocol: 'http1' })], [...framed([0x08, 0x50, 0x1a, 0x02, 0x0a, 0x00])]);
  t.same([...encodeTransportHeader({ port: 80, name: '' })], [...framed([0x08, 0x50])], 'an empty name is no name');
});

t.test('the message matches our schema file (transport.l5d.io.Header)', async (t) => {
  const type = protoType('transport.l5d.io.Header');
  t.equal(type.fields['port']?.id, 1);
  t.equal(type.fields['port']?.type, 'int32');
  t.equal(type.fields['name']?.id, 2);
  t.equal(type.fields['name']?.type, 'string');
  t.equal(type.fields['sessionProtocol']?.id, 3);
  const sp = protoType('transport.l5d.io.SessionProtocol');
  t.same(sp.oneofs['kind']?.oneof, ['http1', 'http2']);
  t.equal(sp.fields['http1']?.id, 1);
  t.equal(sp.fields['http2']?.id, 2);
});

t.test('round trip for every session protocol, with and without a name', async (t) => {
  const cases: TransportHeader[] = [
    { port: 1 },
    { port: 65535 },
    { port: 8080, sessionProtocol: 'http1' },
    { port: 8081, sessionProtocol: 'http2' },
    { port: 4040, name: 'foo.bar.example.com' },
    { port: 4040, name: 'web.ns.svc.cluster.local.', sessionProtocol: 'http2' },
  ];
  for (const header of cases) {
    const result = decodeAll(Buffer.concat([encodeTransportHeader(header), Buffer.from('12345')]));
    t.same(result, { kind: 'header', header, rest: Buffer.from('12345') }, JSON.stringify(header));
    if (result.kind === 'header') {
      t.notOk('name' in result.header && result.header.name === undefined, 'absent fields are absent, not undefined');
    }
  }
});

t.test('every split of header + payload into two chunks decodes the same, and rest is exact', async (t) => {
  const header: TransportHeader = { port: 9999, name: 'svc.example.com', sessionProtocol: 'http1' };
  const payload = Buffer.from('GET / HTTP/1.1\r\n\r\n');
  const all = Buffer.concat([encodeTransportHeader(header), payload]);
  const headerLen = all.length - payload.length;
  for (let split = 0; split <= all.length; split++) {
    const d = new TransportHeaderDecoder();
    const first = d.feed(all.subarray(0, split));
    if (split < headerLen) {
      t.equal(first.kind, 'incomplete', `split ${split}: incomplete`);
      t.ok(d.wanted > 0 && d.wanted <= headerLen - split, `split ${split}: wanted ${d.wanted} never overshoots the header`);
      const second = d.feed(all.subarray(split));
      t.same(second, { kind: 'header', header, rest: payload }, `split ${split}`);
    } else {
      t.same(first, { kind: 'header', header, rest: all.subarray(headerLen, split) }, `split ${split}: complete in the first chunk`);
    }
  }
});

t.test('byte-at-a-time decoding; reading exactly `wanted` bytes never reads past the header', async (t) => {
  const header: TransportHeader = { port: 3306 };
  const all = Buffer.concat([encodeTransportHeader(header), Buffer.from('app')]);
  const d = new TransportHeaderDecoder();
  let pos = 0;
  let result: TransportHeaderFeed = { kind: 'incomplete' };
  while (result.kind === 'incomplete') {
    t.ok(d.wanted >= 1);
    result = d.feed(all.subarray(pos, pos + 1));
    pos++;
  }
  t.same(result, { kind: 'header', header, rest: Buffer.alloc(0) });
  t.equal(pos, all.length - 3, 'stopped exactly at the end of the header');
  t.equal(d.wanted, 0);

  const e = new TransportHeaderDecoder();
  let at = 0;
  let r: TransportHeaderFeed = { kind: 'incomplete' };
  while (r.kind === 'incomplete') {
    const n = e.wanted;
    r = e.feed(all.subarray(at, at + n));
    at += n;
  }
  t.same(r, { kind: 'header', header, rest: Buffer.alloc(0) }, 'wanted-sized reads leave the payload unread');
  t.equal(at, all.length - 3);
});

t.test('an empty chunk changes nothing', async (t) => {
  const d = new TransportHeaderDecoder();
  t.same(d.feed(Buffer.alloc(0)), { kind: 'incomplete' });
  t.equal(d.wanted, 27);
  t.same(d.feed(encodeTransportHeader({ port: 7 })), { kind: 'header', header: { port: 7 }, rest: Buffer.alloc(0) });
});

t.test('a wrong preface is refused at the first differing byte', async (t) => {
  const d = new TransportHeaderDecoder();
  t.same(d.feed(Buffer.from('transport.l5d')), { kind: 'incomplete' });
  const r = d.feed(Buffer.from('X'));
  t.equal(r.kind, 'error');
  t.match(r, { reason: /preface/ });
  t.equal(d.wanted, 0, 'finished');
  t.throws(() => d.feed(Buffer.from('more')), /already finished/);

  t.match(decodeAll(Buffer.from('GET / HTTP/1.1\r\n')), { kind: 'error', reason: /preface/ }, 'HTTP instead of a header');
  t.match(decodeAll(Buffer.from([0x16, 0x03, 0x01])), { kind: 'error', reason: /preface/ }, 'first byte already wrong');
  t.match(decodeAll(Buffer.from('transport.l5d.io/v2\r\n\r\n')), { kind: 'error' }, 'another version');
  t.match(decodeAll(Buffer.from('transport.l5d.io/v1\r\n\n')), { kind: 'error' }, 'bad line ending');
});

t.test('a length that cannot fit the 64 KiB buffer is refused before any message byte arrives', async (t) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(MAX_TRANSPORT_HEADER_MESSAGE_LEN + 1);
  t.match(decodeAll(Buffer.concat([PREFACE, len])), { kind: 'error', reason: /exceeds/ });
  len.writeUInt32BE(0xffffffff);
  t.match(decodeAll(Buffer.concat([PREFACE, len])), { kind: 'error', reason: /4294967295 exceeds/ });

  // Exactly at the limit: accepted as a length (the message is then a valid header padded with an unknown field).
  const d = new TransportHeaderDecoder();
  len.writeUInt32BE(MAX_TRANSPORT_HEADER_MESSAGE_LEN);
  t.same(d.feed(Buffer.concat([PREFACE, len])), { kind: 'incomplete' });
  t.equal(d.wanted, MAX_TRANSPORT_HEADER_MESSAGE_LEN);
  // port 80, then field 15 (bytes) filling the rest: 0x7a, 3-byte varint length, payload.
  const padLen = MAX_TRANSPORT_HEADER_MESSAGE_LEN - 2 - 1 - 3;
  const varint = [(padLen & 0x7f) | 0x80, ((padLen >> 7) & 0x7f) | 0x80, padLen >> 14];
  const msg = Buffer.concat([Buffer.from([0x08, 0x50, 0x7a, ...varint]), Buffer.alloc(padLen, 0x41)]);
  t.equal(msg.length, MAX_TRANSPORT_HEADER_MESSAGE_LEN);
  t.same(d.feed(msg), { kind: 'header', header: { port: 80 }, rest: Buffer.alloc(0) });
});

t.test('the length may straddle chunks', async (t) => {
  const bytes = encodeTransportHeader({ port: 443, name: 'x.example' });
  const d = new TransportHeaderDecoder();
  t.same(d.feed(bytes.subarray(0, 24)), { kind: 'incomplete' });
  t.same(d.feed(bytes.subarray(24, 25)), { kind: 'incomplete' });
  t.same(d.feed(bytes.subarray(25, 26)), { kind: 'incomplete' });
  t.same(d.feed(bytes.subarray(26)), { kind: 'header', header: { port: 443, name: 'x.example' }, rest: Buffer.alloc(0) });
});

t.test('truncation: the decoder stays incomplete and explains the EOF', async (t) => {
  const bytes = encodeTransportHeader({ port: 443, name: 'x.example' });
  const none = new TransportHeaderDecoder();
  t.match(none.endReason(), /before sending a transport header/);
  const framing = new TransportHeaderDecoder();
  t.same(framing.feed(bytes.subarray(0, 10)), { kind: 'incomplete' });
  t.match(framing.endReason(), /10 of the 27/);
  const body = new TransportHeaderDecoder();
  t.same(body.feed(bytes.subarray(0, bytes.length - 1)), { kind: 'incomplete' });
  t.equal(body.wanted, 1);
  t.match(body.endReason(), new RegExp(`${bytes.length - 28} of ${bytes.length - 27} transport header message bytes`));
});

t.test('ports outside 1..65535 are refused on decode and on encode', async (t) => {
  t.match(decodeAll(framed([])), { kind: 'error', reason: /port 0/ }, 'empty message: port 0');
  t.match(decodeAll(framed([0x08, 0x00])), { kind: 'error', reason: /port 0/ });
  // 70000 = 0x11170 → f0 a2 04
  t.match(decodeAll(framed([0x08, 0xf0, 0xa2, 0x04])), { kind: 'error', reason: /port 70000/ });
  t.match(decodeAll(framed([0x08, 0x80, 0x80, 0x04])), { kind: 'error', reason: /port 65536/ });
  // -1 as int32: ten-byte varint.
  t.match(decodeAll(framed([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), { kind: 'error', reason: /port -1/ });
  t.same(decodeAll(framed([0x08, 0xff, 0xff, 0x03])), { kind: 'header', header: { port: 65535 }, rest: Buffer.alloc(0) });

  t.throws(() => encodeTransportHeader({ port: 0 }), RangeError);
  t.throws(() => encodeTransportHeader({ port: 70000 }), RangeError);
  t.throws(() => encodeTransportHeader({ port: 1.5 }), RangeError);
  t.throws(() => encodeTransportHeader({ port: 80, name: 'not a name' }), RangeError);
});

t.test('session protocol: http1, http2, absent, and an empty SessionProtocol (opaque)', async (t) => {
  t.same(decodeHeaderMessage(Buffer.from([0x08, 0x50, 0x1a, 0x02, 0x0a, 0x00])), { port: 80, sessionProtocol: 'http1' });
  t.same(decodeHeaderMessage(Buffer.from([0x08, 0x50, 0x1a, 0x02, 0x12, 0x00])), { port: 80, sessionProtocol: 'http2' });
  t.same(decodeHeaderMessage(Buffer.from([0x08, 0x50])), { port: 80 });
  t.same(decodeHeaderMessage(Buffer.from([0x08, 0x50, 0x1a, 0x00])), { port: 80 }, 'no kind set: opaque');
  t.same(decodeHeaderMessage(Buffer.from([0x08, 0x50, 0x1a, 0x04, 0x0a, 0x00, 0x12, 0x00])), { port: 80, sessionProtocol: 'http2' }, 'the last oneof member wins');
  t.same(decodeHeaderMessage(Buffer.from([0x1a, 0x02, 0x0a, 0x00, 0x08, 0x50])), { port: 80, sessionProtocol: 'http1' }, 'field order does not matter');
});

t.test('unknown fields are skipped, at the top level and inside SessionProtocol', async (t) => {
  const msg = [
    0x08, 0x50, // port 80
    0x20, 0x05, // field 4 varint
    0x2a, 0x03, 0x61, 0x62, 0x63, // field 5 bytes "abc"
    0x31, 1, 2, 3, 4, 5, 6, 7, 8, // field 6 fixed64
    0x3d, 1, 2, 3, 4, // field 7 fixed32
    0x1a, 0x04, 0x0a, 0x00, 0x18, 0x01, // session_protocol { http1 {}, field 3 varint }
  ];
  t.same(decodeAll(framed(msg)), { kind: 'header', header: { port: 80, sessionProtocol: 'http1' }, rest: Buffer.alloc(0) });
});

t.test('malformed protobuf and invalid names are refused', async (t) => {
  t.match(decodeAll(framed([0x08])), { kind: 'error', reason: /malformed/ }, 'truncated varint');
  t.match(decodeAll(framed([0x08, 0x50, 0x12, 0x05, 0x61])), { kind: 'error', reason: /malformed/ }, 'string longer than the message');
  t.match(decodeAll(framed([0x08, 0x50, 0x0f])), { kind: 'error', reason: /malformed/ }, 'wire type 7');
  t.match(decodeAll(framed([0x08, 0x50, 0x12, 0x02, 0xff, 0xfe])), { kind: 'error', reason: /malformed/ }, 'name is not UTF-8');
  t.match(decodeAll(framed([0x08, 0x50, 0x1a, 0x03, 0x0a, 0x05, 0x00])), { kind: 'error', reason: /malformed/ }, 'nested message overruns');
  t.match(decodeAll(framed([0x08, 0x50, 0x12, 0x03, 0x61, 0x20, 0x62])), { kind: 'error', reason: /invalid transport header name "a b"/ });
  t.match(decodeAll(framed([0x08, 0x50, 0x12, 0x07, ...Buffer.from('1.2.3.4')])), { kind: 'error', reason: /invalid transport header name/ }, 'an IP is not a name');
});
