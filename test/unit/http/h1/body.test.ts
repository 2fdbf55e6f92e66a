import t from 'tap';
import { ChunkedDecoder, EofDecoder, LengthDecoder } from '../../../../src/http/h1/body.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

const CHUNKED =
  '5;name=value;q="quoted; str"\r\nhello\r\n' +
  '1 \t;ext\r\n \r\n' +
  'A\r\n0123456789\r\n' +
  '0;last\r\n' +
  'Trailer-One: x\r\nTrailer-Two: y z\r\n' +
  '\r\n';
const PAYLOAD = 'hello 0123456789';

t.test('content-length framing stops at the length', async (t) => {
  const d = new LengthDecoder().reset(5);
  t.equal(d.done, false);
  t.equal(d.feed(b('abc'), 0, 3), 3);
  t.equal(d.feed(b('xxdefgh'), 2, 7), 2, 'only what is left of the body');
  t.equal(d.done, true);
  t.equal(new LengthDecoder().reset(0).done, true);
});

t.test('EOF framing takes everything until end()', async (t) => {
  const d = new EofDecoder().reset();
  t.equal(d.feed(b('abcdef'), 1, 6), 5);
  t.equal(d.done, false);
  d.end();
  t.equal(d.done, true);
});

t.test('chunked: extensions, trailers and the last chunk, in one piece', async (t) => {
  const d = new ChunkedDecoder();
  const buf = b(CHUNKED + 'NEXT REQUEST');
  t.equal(d.feed(buf, 0, buf.length), CHUNKED.length, 'stops exactly at the end of the message');
  t.equal(d.done, true);
  t.equal(d.error, undefined);
  t.equal(d.feed(buf, CHUNKED.length, buf.length), 0, 'nothing more once done');
});

t.test('chunked: byte-by-byte feeding finds the same end', async (t) => {
  const d = new ChunkedDecoder();
  const buf = b(CHUNKED + 'X');
  let consumed = 0;
  for (let i = 0; i < buf.length && !d.done; i++) consumed += d.feed(buf, i, i + 1);
  t.equal(consumed, CHUNKED.length);
  t.equal(d.done, true);
});

t.test('chunked: every two-piece split finds the same end', async (t) => {
  const buf = b(CHUNKED + 'tail');
  for (let cut = 0; cut <= buf.length; cut++) {
    const d = new ChunkedDecoder();
    const n1 = d.feed(buf, 0, Math.min(cut, CHUNKED.length + 4));
    const n2 = d.done ? 0 : d.feed(buf, n1, buf.length);
    if (n1 + n2 !== CHUNKED.length || !d.done) {
      t.fail(`cut at ${cut}: ${n1}+${n2}, done=${d.done}, error=${d.error}`);
      return;
    }
  }
  t.pass('all splits agree');
});

t.test('chunked: feedRun separates payload from framing for every split', async (t) => {
  const buf = b(CHUNKED);
  for (let cut = 0; cut <= buf.length; cut++) {
    const d = new ChunkedDecoder();
    const data: Buffer[] = [];
    for (const [s, e] of [
      [0, cut],
      [cut, buf.length],
    ] as const) {
      let off = s;
      while (off < e && !d.done) {
        const n = d.feedRun(buf, off, e);
        if (n < 0) throw new Error(d.error);
        if (d.runIsData) data.push(buf.subarray(off, off + n));
        off += n;
      }
    }
    if (Buffer.concat(data).toString() !== PAYLOAD || !d.done) {
      t.fail(`cut at ${cut}: ${JSON.stringify(Buffer.concat(data).toString())}`);
      return;
    }
  }
  t.pass('payload recovered for all splits');
});

t.test('chunked: reset() makes a decoder reusable', async (t) => {
  const d = new ChunkedDecoder();
  d.feed(b('0\r\n\r\n'), 0, 5);
  t.equal(d.done, true);
  d.reset();
  t.equal(d.done, false);
  t.equal(d.feed(b('1\r\na\r\n0\r\n\r\n'), 0, 11), 11);
  t.equal(d.done, true);
});

t.test('chunked: malformed framing is an error', async (t) => {
  const bad: [string, string][] = [
    ['non-hex size', 'g\r\n'],
    ['empty size', '\r\n'],
    ['bare LF after size', '5\nhello\r\n'],
    ['missing CRLF after data', '5\r\nhelloX\r\n'],
    ['bare LF after data', '5\r\nhello\n0\r\n\r\n'],
    ['size overflow', 'fffffffffffffffff\r\n'],
    ['control byte in extension', '5;a\u0001b\r\n'],
    ['space inside size', '5 5\r\n'],
    ['folded trailer', '0\r\nA: b\r\n c\r\n\r\n'],
    ['bare CR in trailer', '0\r\nA: b\rc\r\n\r\n'],
    ['bare LF to end', '0\r\n\n'],
    ['negative size', '-5\r\n'],
  ];
  for (const [name, raw] of bad) {
    const d = new ChunkedDecoder();
    const buf = b(raw);
    t.equal(d.feed(buf, 0, buf.length), -1, name);
    t.type(d.error, 'string', `${name} has a reason`);
  }
  const flood = new ChunkedDecoder();
  const ext = b(`1;${'x'.repeat(17 * 1024)}\r\n`);
  t.equal(flood.feed(ext, 0, ext.length), -1, 'extension flood');
});
