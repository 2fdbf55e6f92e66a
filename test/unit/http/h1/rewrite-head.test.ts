import t from 'tap';
import type { RequestHead, ResponseHead } from '../../../../src/http/h1/head.js';
import { RequestParser, ResponseParser } from '../../../../src/http/h1/parse-head.js';
import { rewriteHead } from '../../../../src/http/h1/rewrite-head.js';

function req(s: string): RequestHead {
  const r = new RequestParser().feed(Buffer.from(s, 'latin1'));
  if (r.kind !== 'head') throw new Error(JSON.stringify(r));
  return r.head;
}

function res(s: string): ResponseHead {
  const r = new ResponseParser().feed(Buffer.from(s, 'latin1'));
  if (r.kind !== 'head') throw new Error(JSON.stringify(r));
  return r.head;
}

t.test('fast path: nothing to change returns the received bytes themselves', async (t) => {
  const h = req('GET /x HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nContent-Length: 0\r\n\r\n');
  t.equal(rewriteHead(h, {}), h.buf, 'same Buffer object');
  t.equal(rewriteHead(h, { edits: { remove: ['l5d-client-id'] } }), h.buf, 'removing an absent header changes nothing');
  t.equal(rewriteHead(h, { dropTransferEncoding: true }), h.buf, 'dropping an absent header changes nothing');
});

t.test('hop-by-hop headers go, including the ones Connection names', async (t) => {
  const h = req(
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: x-foo-bar, close\r\nX-Foo-Bar: 1\r\nKeep-Alive: timeout=5\r\n' +
      'Proxy-Connection: keep-alive\r\nX-Keep: yes\r\nTE: trailers\r\n\r\n',
  );
  t.equal(
    rewriteHead(h, {}).toString(),
    'GET / HTTP/1.1\r\nHost: a\r\nX-Keep: yes\r\nTE: trailers\r\n\r\n',
    'TE stays, as in the Rust proxy',
  );
});

t.test('Upgrade: h2c and HTTP2-Settings are stripped; real upgrades keep their headers', async (t) => {
  const h2c = req('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n');
  t.equal(rewriteHead(h2c, { keepHopByHop: h2c.wantsUpgrade }).toString(), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const ws = req('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: chatproto\r\n\r\n');
  t.equal(rewriteHead(ws, { keepHopByHop: ws.wantsUpgrade }), ws.buf);
});

t.test('framing headers and Host survive being named in Connection', async (t) => {
  const h = req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: content-length, host, x-a\r\nX-A: 1\r\n\r\n');
  t.equal(rewriteHead(h, {}).toString(), 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n');
});

t.test('edits: remove and set', async (t) => {
  const h = req('GET / HTTP/1.1\r\nl5d-client-id: spoofed\r\nHost: a\r\nL5D-Client-Id: again\r\n\r\n');
  t.equal(rewriteHead(h, { edits: { remove: ['l5d-client-id'] } }).toString(), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.equal(
    rewriteHead(h, { edits: { set: [['l5d-client-id', 'web.ns.serviceaccount.identity.linkerd.cluster.local']] } }).toString(),
    'GET / HTTP/1.1\r\nHost: a\r\nl5d-client-id: web.ns.serviceaccount.identity.linkerd.cluster.local\r\n\r\n',
  );
  t.throws(() => rewriteHead(h, { edits: { set: [['x-a', 'bad\r\nInjected: 1']] } }), TypeError);
  t.throws(() => rewriteHead(h, { edits: { set: [['bad name', 'v']] } }), TypeError);
});

t.test('response rewrites: version, framing, connection', async (t) => {
  const r = res('HTTP/1.1 200 OK\r\nConnection: keep-alive, x-server-quux\r\nX-Server-Quux: 1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n');
  t.equal(
    rewriteHead(r, { asHttp10: true, dropContentLength: true, connection: 'keep-alive' }).toString(),
    'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nconnection: keep-alive\r\n\r\n',
  );
  const plain = res('HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nDate: x\r\n\r\n');
  t.equal(rewriteHead(plain, { dropTransferEncoding: true, connection: 'close' }).toString(), 'HTTP/1.1 204 No Content\r\nDate: x\r\nconnection: close\r\n\r\n');
  const old = res('HTTP/1.0 200 OK\r\n\r\n');
  t.equal(rewriteHead(old, { asHttp10: true }), old.buf, 'already 1.0');
});

t.test('date: appended last when the head has none; an existing Date keeps the fast path', async (t) => {
  const DATE = 'Tue, 01 Dec 2026 10:00:00 GMT';
  const bare = res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  t.equal(rewriteHead(bare, { date: DATE }).toString('latin1'), `HTTP/1.1 200 OK\r\nContent-Length: 0\r\ndate: ${DATE}\r\n\r\n`);
  const dated = res('HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n');
  t.equal(rewriteHead(dated, { date: DATE }), dated.buf, 'same Buffer object');
  const closing = rewriteHead(bare, { date: DATE, connection: 'close' }).toString('latin1');
  t.match(closing, /connection: close\r\ndate: [^\r]+\r\n\r\n$/, 'after the proxy’s connection header, as hyper orders them');
});
