import t from 'tap';
import type { HeadResult } from '../../../../src/http/h1/head-parser.js';
import type { Http1Head, RequestHead } from '../../../../src/http/h1/head.js';
import { RequestParser, ResponseParser } from '../../../../src/http/h1/parse-head.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function parseRequest(s: string | Buffer, limits = {}): HeadResult<RequestHead> {
  return new RequestParser(limits).feed(typeof s === 'string' ? b(s) : s);
}

function head<H extends Http1Head>(r: HeadResult<H>): H {
  if (r.kind !== 'head') throw new Error(`expected a head, got ${JSON.stringify(r)}`);
  return r.head;
}

/** Feeds s one byte per call; returns the result of the call that completed, and its index. */
function byteByByte<H extends Http1Head>(
  p: { feed(buf: Buffer, off?: number): HeadResult<H> },
  s: string,
): { r: HeadResult<H>; at: number } {
  const bytes = b(s);
  for (let i = 0; i < bytes.length; i++) {
    const r = p.feed(bytes.subarray(i, i + 1));
    if (r.kind !== 'incomplete') return { r, at: i };
  }
  return { r: { kind: 'incomplete' }, at: -1 };
}

const GET = 'GET /a/b?c=d HTTP/1.1\r\nHost: example.com:80\r\nX-Multi: 1\r\nAccept: */*\r\nx-multi: 2\r\n\r\n';

t.test('parses a request head into offsets and the values routing needs', async (t) => {
  const r = parseRequest(GET + 'BODY');
  const h = head(r);
  t.equal(r.kind === 'head' && r.consumed, GET.length, 'consumed stops at the blank line');
  t.equal(h.method, 'GET');
  t.equal(h.target, '/a/b?c=d');
  t.equal(h.targetForm, 'origin');
  t.equal(h.version, 11);
  t.equal(h.host, 'example.com:80');
  t.equal(h.hasHost, true);
  t.equal(h.headerCount, 4);
  t.equal(h.header('accept'), '*/*');
  t.equal(h.header('X-MULTI'), '1, 2', 'repeated fields are joined');
  t.same(h.headerValues('x-multi'), ['1', '2']);
  t.equal(h.header('missing'), undefined);
  t.equal(h.keepAlive, true);
  t.equal(h.hopByHop, false);
  t.equal(h.contentLength, -1);
  t.equal(h.buf.toString('latin1'), GET, 'the head bytes are exactly the received head');
});

t.test('header names are lower-cased in place only when asked', async (t) => {
  const raw = b('GET / HTTP/1.1\r\nX-Foo-Bar: Value\r\n\r\n');
  const kept = head(new RequestParser().feed(Buffer.from(raw)));
  t.match(kept.buf.toString(), /X-Foo-Bar: Value/);
  const lowered = head(new RequestParser({ lowercaseNames: true }).feed(Buffer.from(raw)));
  t.match(lowered.buf.toString(), /\r\nx-foo-bar: Value\r\n/, 'values keep their case');
  t.same(lowered.headerEntries(), [['x-foo-bar', 'Value']]);
});

t.test('a head split across byte-sized chunks parses the same', async (t) => {
  const p = new RequestParser();
  const { r, at } = byteByByte(p, GET + 'XYZ');
  t.equal(at, GET.length - 1, 'completes on the last byte of the blank line');
  t.equal(r.kind === 'head' && r.consumed, 1, 'consumed counts bytes of the last chunk only');
  const h = head(r);
  t.equal(h.target, '/a/b?c=d');
  t.equal(h.header('x-multi'), '1, 2');
  t.equal(h.buf.toString('latin1'), GET);
  // The parser is reusable for the next message.
  t.equal(head(p.feed(b('GET /next HTTP/1.1\r\n\r\n'))).target, '/next');
});

t.test('every two-piece split parses the same', async (t) => {
  const whole = b(GET);
  for (let cut = 1; cut < whole.length; cut++) {
    const p = new RequestParser();
    t.equal(p.feed(whole.subarray(0, cut)).kind, 'incomplete');
    const r = p.feed(Buffer.concat([whole.subarray(cut), b('rest')]));
    if (r.kind !== 'head' || r.consumed !== whole.length - cut || r.head.header('host') !== 'example.com:80') {
      t.fail(`split at ${cut}: ${JSON.stringify(r.kind)}`);
      return;
    }
  }
  t.pass('all splits agree');
});

t.test('pipelined heads in one buffer are parsed one after the other', async (t) => {
  const buf = b('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n');
  const p = new RequestParser();
  const r1 = p.feed(buf, 0);
  t.equal(head(r1).target, '/1');
  const off = r1.kind === 'head' ? r1.consumed : 0;
  const r2 = p.feed(buf, off);
  t.equal(head(r2).target, '/2');
  t.equal(r2.kind === 'head' && off + r2.consumed, buf.length);
});

t.test('blank lines before a request line are skipped (RFC 9112 §2.2)', async (t) => {
  const h = head(parseRequest('\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n'));
  t.equal(h.target, '/x');
  t.equal(h.buf.toString(), 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal(h.header('host'), 'a');
});

t.test('target forms', async (t) => {
  t.equal(head(parseRequest('GET http://auth/x HTTP/1.1\r\n\r\n')).targetForm, 'absolute');
  t.equal(head(parseRequest('OPTIONS * HTTP/1.1\r\n\r\n')).targetForm, 'asterisk');
  const c = head(parseRequest('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'));
  t.equal(c.targetForm, 'authority');
  t.equal(c.isConnect, true);
  t.equal(c.wantsUpgrade, true);
});

t.test('keep-alive, Connection tokens, upgrades', async (t) => {
  t.equal(head(parseRequest('GET / HTTP/1.1\r\nConnection: close\r\n\r\n')).keepAlive, false);
  t.equal(head(parseRequest('GET / HTTP/1.0\r\n\r\n')).keepAlive, false);
  t.equal(head(parseRequest('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')).keepAlive, true);
  const n = head(parseRequest('GET / HTTP/1.1\r\nConnection: x-foo-bar, close\r\nX-Foo-Bar: 1\r\n\r\n'));
  t.same(n.connectionNames, ['x-foo-bar']);
  t.equal(n.hopByHop, true);
  const ws = head(parseRequest('GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'));
  t.equal(ws.wantsUpgrade, true);
  t.equal(ws.upgrade, 'websocket');
  const h2c = head(parseRequest('GET / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n'));
  t.equal(h2c.wantsUpgrade, false, 'h2c is never honoured');
  t.equal(h2c.h2cUpgrade, true);
  t.equal(head(parseRequest('GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n')).wantsUpgrade, false, 'no upgrades in 1.0');
  t.equal(head(parseRequest('POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n')).expectContinue, true);
});

t.test('framing values', async (t) => {
  const cl = head(parseRequest('POST / HTTP/1.1\r\nContent-Length: 0012\r\n\r\n'));
  t.equal(cl.contentLength, 12);
  const te = head(parseRequest('POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n'));
  t.equal(te.chunked, true);
  const te2 = head(parseRequest('POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'));
  t.equal(te2.chunked, true, 'the final coding counts across fields');
});

const smuggling: [string, string][] = [
  ['obs-fold', 'GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\n\r\n'],
  ['obs-fold with tab', 'GET / HTTP/1.1\r\nX-A: 1\r\n\t2\r\n\r\n'],
  ['whitespace before the colon', 'GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n'],
  ['tab before the colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n'],
  ['invalid name character', 'GET / HTTP/1.1\r\nX(A): 1\r\n\r\n'],
  ['empty name', 'GET / HTTP/1.1\r\n: 1\r\n\r\n'],
  ['no colon', 'GET / HTTP/1.1\r\nNoColon\r\n\r\n'],
  ['bare CR in a value', 'GET / HTTP/1.1\r\nX-A: 1\r2\r\n\r\n'],
  ['NUL in a value', 'GET / HTTP/1.1\r\nX-A: 1\u00002\r\n\r\n'],
  ['DEL in a value', 'GET / HTTP/1.1\r\nX-A: 1\u007f\r\n\r\n'],
  ['bare LF line end', 'GET / HTTP/1.1\r\nHost: a\n\r\n'],
  ['bare LF request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
  ['duplicate equal Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n'],
  ['conflicting Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n'],
  ['Content-Length list', 'POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n'],
  ['non-numeric Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n'],
  ['signed Content-Length', 'POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n'],
  ['negative Content-Length', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n'],
  ['empty Content-Length', 'POST / HTTP/1.1\r\nContent-Length: \r\n\r\n'],
  ['huge Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n'],
  ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ['Transfer-Encoding with Content-Length', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n'],
  ['Transfer-Encoding not ending in chunked', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'],
  ['Transfer-Encoding gzip only', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'],
  ['chunked twice', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n'],
  ['chunked look-alike', 'POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n'],
  ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['invalid method', 'G(T / HTTP/1.1\r\n\r\n'],
  ['double space', 'GET  / HTTP/1.1\r\n\r\n'],
  ['space in target', 'GET /a b HTTP/1.1\r\n\r\n'],
  ['raw UTF-8 in target', 'GET /\u00e9 HTTP/1.1\r\n\r\n'],
  ['HTTP/2.0 request line', 'GET / HTTP/2.0\r\n\r\n'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n'],
  ['lower-case version', 'GET / http/1.1\r\n\r\n'],
  ['HTTP/0.9 style', 'GET /\r\n\r\n'],
  ['trailing space after version', 'GET / HTTP/1.1 \r\n\r\n'],
  ['CONNECT origin-form', 'CONNECT /origin-form HTTP/1.1\r\n\r\n'],
  ['CONNECT absolute-form', 'CONNECT http://test/bar HTTP/1.1\r\n\r\n'],
  ['CONNECT asterisk', 'CONNECT * HTTP/1.1\r\n\r\n'],
  ['CONNECT in HTTP/1.0', 'CONNECT test:443 HTTP/1.0\r\n\r\n'],
  ['authority-form without CONNECT', 'GET test HTTP/1.1\r\n\r\n'],
];

t.test('request smuggling and malformed heads are rejected with 400', async (t) => {
  for (const [name, raw] of smuggling) {
    const whole = parseRequest(raw);
    t.equal(whole.kind === 'error' && whole.status, 400, name);
    // The same verdict when the head trickles in.
    const { r } = byteByByte(new RequestParser(), raw);
    t.equal(r.kind === 'error' && r.status, 400, `${name} (byte by byte)`);
  }
});

t.test('a 400 remembers the request version for the reply', async (t) => {
  const r = parseRequest('CONNECT test:443 HTTP/1.0\r\n\r\n');
  t.equal(r.kind === 'error' && r.version, 10);
  const early = parseRequest('G(T / HTTP/1.0\r\n\r\n');
  t.equal(early.kind === 'error' && early.version, undefined);
});

t.test('limits: head size and header count answer 431', async (t) => {
  const big = `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`;
  const r = parseRequest(big);
  t.equal(r.kind === 'error' && r.status, 431, 'oversized head');
  const small = parseRequest(`GET / HTTP/1.1\r\nX: ${'a'.repeat(100)}\r\n\r\n`, { maxHeadBytes: 64 });
  t.equal(small.kind === 'error' && small.status, 431, 'custom size limit');

  // No terminator yet, but already over the limit: no need to wait for more.
  const p = new RequestParser({ maxHeadBytes: 1024 });
  let last = p.feed(b('GET / HTTP/1.1\r\n'));
  for (let i = 0; i < 100 && last.kind === 'incomplete'; i++) last = p.feed(b(`X-${i}: ${'v'.repeat(20)}\r\n`));
  t.equal(last.kind === 'error' && last.status, 431, 'detected while trickling in');

  const hundred = Array.from({ length: 100 }, (_, i) => `X-${i}: v\r\n`).join('');
  t.equal(parseRequest(`GET / HTTP/1.1\r\n${hundred}\r\n`).kind, 'head', '100 headers are fine');
  const r101 = parseRequest(`GET / HTTP/1.1\r\n${hundred}X-100: v\r\n\r\n`);
  t.equal(r101.kind === 'error' && r101.status, 431, '101 headers are not');
});

t.test('response heads', async (t) => {
  const p = new ResponseParser();
  const r = head(p.feed(b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello')));
  t.equal(r.status, 200);
  t.equal(r.contentLength, 5);
  t.equal(r.keepAlive, false);
  t.equal(head(p.feed(b('HTTP/1.1 204\r\n\r\n'))).status, 204, 'reason phrase may be missing');
  t.equal(head(p.feed(b('HTTP/1.1 404 \r\n\r\n'))).status, 404, 'or empty');
  t.equal(head(p.feed(b('HTTP/1.0 200 Ok \u00e9t\u00e9\r\n\r\n'))).version, 10, 'obs-text in reasons');
  t.equal(head(p.feed(b('HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n'))).contentLength, 7, 'equal list (hyper)');
  t.equal(head(p.feed(b('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n'))).keepAlive, true);

  // An interim response followed by the final one in the same read.
  const two = b('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
  const first = p.feed(two);
  t.equal(head(first).status, 100);
  t.equal(head(p.feed(two, first.kind === 'head' ? first.consumed : 0)).status, 201);

  const bad: [string, string][] = [
    ['garbage', 'hello\r\n\r\n'],
    ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['status below 100', 'HTTP/1.1 099 X\r\n\r\n'],
    ['conflicting lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['bad length', 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n'],
    ['leading blank line', '\r\nHTTP/1.1 200 OK\r\n\r\n'],
  ];
  for (const [name, raw] of bad) {
    const e = new ResponseParser().feed(b(raw));
    t.equal(e.kind === 'error' && e.status, 502, name);
  }
});
