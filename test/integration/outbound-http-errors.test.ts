// Bad requests and upstream failures through the real proxy's outbound side (spec §4.7, §4.8):
// 431 / 400 then close, l5d-require-id, and the proxy's own 502 / 504 answers.
import t from 'tap';
import { Agent, request } from 'undici';
import { curl, keepAliveOrigin, parseCurlOutput, rawClient, rawOrigin, serviceMesh } from './outbound-http-helpers.js';
import { closedPortOf } from '../support/net.js';

const HOST = 'web.test.svc.cluster.local';

t.test('an oversized request head gets 431, then the connection is closed; nothing reaches the origin', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nx-big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.line, 'HTTP/1.1 431 Request Header Fields Too Large');
  t.equal(res.headers.get('connection'), 'close');
  t.ok(await c.reader.closedWithin(2000), 'closed after the 431');
  const many = await rawClient(t, mesh.outboundPort);
  many.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n${Array.from({ length: 150 }, (_, i) => `x-h${i}: v\r\n`).join('')}\r\n`);
  t.equal((await many.reader.response()).status, 431, 'too many headers is 431 too');
  t.ok(await many.reader.closedWithin(2000));
  t.equal(origin.conns.length, 0);
});

t.test('malformed requests get 400 (in the request’s version), then the connection is closed', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  // Detection (spec §3.2) only vets the request line and first header, as httparse does; these
  // heads pass it, so the HTTP/1 server's strict parser is what refuses them.
  const cases: [string, string][] = [
    [`GET / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n`, 'HTTP/1.1 400 Bad Request'],
    [`POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`, 'HTTP/1.1 400 Bad Request'],
    [`POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: gzip\r\n\r\n`, 'HTTP/1.1 400 Bad Request'],
    [`POST / HTTP/1.0\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n`, 'HTTP/1.0 400 Bad Request'],
    [`GET / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: -1\r\n\r\n`, 'HTTP/1.1 400 Bad Request'],
    ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
  ];
  for (const [req, line] of cases) {
    const c = await rawClient(t, mesh.outboundPort);
    c.socket.write(req);
    const res = await c.reader.response();
    t.equal(res.line, line, JSON.stringify(req.slice(0, 60)));
    t.ok(await c.reader.closedWithin(2000), 'closed');
  }
  t.equal(origin.conns.length, 0, 'nothing reached the origin');
});

t.test('an invalid chunked request body after a good head: 400 if no response began, and the connection closes', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
  const up = await origin.next();
  await up.reader.until('hello\r\n');
  c.socket.write('zz\r\n');
  const res = await c.reader.response();
  t.equal(res.status, 400);
  t.ok(await c.reader.closedWithin(2000));
  t.ok(await up.reader.closedWithin(2000), 'the upstream connection carrying the broken body is dropped');
});

t.test('l5d-require-id to an endpoint without an identity: 502 naming the requirement; the header never leaves', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  const mesh = await serviceMesh(t, [origin.port]);
  const r = await curl(['-i', '-H', `Host: ${HOST}`, '-H', 'l5d-require-id: web.test.serviceaccount.identity.linkerd.cluster.local', `http://127.0.0.1:${mesh.outboundPort}/`]);
  const res = parseCurlOutput(r.stdout);
  t.equal(res.status, 502);
  t.match(res.headers.get('l5d-proxy-error') ?? '', /required id "web.test.serviceaccount.identity.linkerd.cluster.local"; found None/);
  t.equal(res.headers.get('connection'), 'close');
  t.equal(origin.requests.length, 0, 'not forwarded');
});

t.test('upstream failures: refused connections 502, an early close 502, a malformed response 502', async (t) => {
  const refused = await closedPortOf();
  const mesh = await serviceMesh(t, [refused]);
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  const r1 = await request(`http://127.0.0.1:${mesh.outboundPort}/`, { dispatcher, headers: { host: HOST } });
  await r1.body.text();
  t.equal(r1.statusCode, 502, 'connection refused ⇒ 502');
  t.ok(String(r1.headers['l5d-proxy-error'] ?? '').length > 0, 'with l5d-proxy-error');

  const early = await rawOrigin(t, async (c) => {
    await c.reader.until('\r\n\r\n');
    c.socket.end();
  });
  const mesh2 = await serviceMesh(t, [early.port]);
  const c2 = await rawClient(t, mesh2.outboundPort);
  c2.socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\ncontent-length: 0\r\n\r\n`);
  const res2 = await c2.reader.response();
  t.equal(res2.status, 502, 'closed before a response ⇒ 502');
  t.ok(await c2.reader.closedWithin(2000), 'and the client connection closes');

  const garbage = await rawOrigin(t, async (c) => {
    await c.reader.until('\r\n\r\n');
    c.socket.write('HTTP/1.1 2OO OK\r\n\r\n');
  });
  const mesh3 = await serviceMesh(t, [garbage.port]);
  const c3 = await rawClient(t, mesh3.outboundPort);
  c3.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const res3 = await c3.reader.response();
  t.equal(res3.status, 502, 'malformed response ⇒ 502');
  t.match(res3.headers.get('l5d-proxy-error') ?? '', /invalid response/);
});

t.test('a response body cut short after its head: the client connection is reset, not ended cleanly', async (t) => {
  const origin = await rawOrigin(t, async (c) => {
    await c.reader.until('\r\n\r\n');
    c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
    setTimeout(() => c.socket.destroy(), 50);
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  t.match(await c.reader.until('partial'), /^HTTP\/1.1 200 OK/);
  t.ok(await c.reader.closedWithin(2000));
  t.equal(c.reader.error?.message.includes('ECONNRESET') ?? false, true, 'the truncation shows as a reset');
});

t.test('a route response timeout: 504 when no response head arrives in time, connection closed', async (t) => {
  const origin = await rawOrigin(t, async (c) => {
    await c.reader.until('\r\n\r\n');
  });
  const mesh = await serviceMesh(t, [origin.port], { rule: { timeouts: { response: { seconds: 0, nanos: 200_000_000 } } } });
  const started = Date.now();
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const res = await c.reader.response();
  const elapsed = Date.now() - started;
  t.equal(res.status, 504);
  t.ok(elapsed >= 180 && elapsed < 2000, `after about 200ms (${elapsed}ms)`);
  t.ok(await c.reader.closedWithin(2000));
});
