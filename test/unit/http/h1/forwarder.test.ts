import http from 'node:http';
import t from 'tap';
import { Client } from 'undici';
import { RawClient, bodyOf, httpOrigin, rawOrigin, readHead, startProxy, waitFor } from './helpers/harness.js';

t.test('keep-alive: two requests on one client connection share one upstream connection', async (t) => {
  const origin = await httpOrigin(t, (req, res) => res.end(`hello ${req.url}`));
  const proxy = await startProxy(t, origin.port);
  const client = new Client(`http://127.0.0.1:${proxy.port}`, { pipelining: 1 });
  t.teardown(() => client.destroy());
  for (const path of ['/a', '/b']) {
    const r = await client.request({ path, method: 'GET' });
    t.equal(r.statusCode, 200);
    t.equal(await r.body.text(), `hello ${path}`);
  }
  t.equal(proxy.accepted.length, 1, 'one client connection');
  t.equal(origin.connections(), 1, 'one upstream connection');
  t.same(proxy.pool.stats(), { idle: 1, active: 0, pending: 0 });
});

t.test('node:http client with a keep-alive agent', async (t) => {
  const origin = await httpOrigin(t, (req, res) => {
    res.setHeader('x-method', req.method ?? '');
    res.end('ok');
  });
  const proxy = await startProxy(t, origin.port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  for (let i = 0; i < 3; i++) {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ port: proxy.port, host: '127.0.0.1', path: '/', agent }, resolve).on('error', reject);
    });
    t.equal(res.headers['x-method'], 'GET');
    t.equal((await bodyOf(res)).toString(), 'ok');
  }
  t.equal(proxy.accepted.length, 1);
  t.equal(origin.connections(), 1);
});

t.test('pipelined requests are answered in order', async (t) => {
  const origin = await httpOrigin(t, (req, res) => res.end(req.url));
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\nGET /three HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.until((s) => s.includes('/three'));
  t.match(text, /\/one[\s\S]*\/two[\s\S]*\/three/);
  t.equal(origin.connections(), 1);
});

t.test('hop-by-hop headers are stripped both ways; header names go out lower-cased', async (t) => {
  let seen: http.IncomingHttpHeaders = {};
  let rawSeen: string[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    seen = req.headers;
    rawSeen = req.rawHeaders;
    res.setHeader('connection', 'x-server-quux');
    res.setHeader('x-server-quux', 'gone');
    res.setHeader('keep-alive', 'timeout=5');
    res.setHeader('proxy-connection', 'keep-alive');
    res.setHeader('x-kept', 'yes');
    res.end('ok');
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write(
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: x-foo-bar, close\r\nX-Foo-Bar: 1\r\nKeep-Alive: timeout=5\r\n' +
      'Proxy-Connection: keep-alive\r\nX-Custom-Name: v\r\n\r\n',
  );
  const text = await c.untilClosed();
  t.notOk(seen['x-foo-bar'], 'named in Connection');
  t.notOk(seen['keep-alive']);
  t.notOk(seen['proxy-connection']);
  t.ok(rawSeen.includes('x-custom-name'), 'lower-cased like hyper');
  const head = text.split('\r\n\r\n')[0]!.toLowerCase();
  t.notMatch(head, /x-server-quux/);
  t.notMatch(head, /keep-alive/);
  t.notMatch(head, /proxy-connection/);
  t.match(head, /x-kept: yes/);
  t.match(head, /\r\nconnection: close/, 'the client asked to close: the proxy says so');
});

t.test('Upgrade: h2c is stripped and the request served as HTTP/1.1', async (t) => {
  let seen: http.IncomingHttpHeaders = {};
  const origin = await httpOrigin(t, (req, res) => {
    seen = req.headers;
    res.end('plain');
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n');
  const text = await c.until((s) => s.endsWith('plain'));
  t.match(text, /^HTTP\/1\.1 200 OK/);
  t.notOk(seen.upgrade);
  t.notOk(seen['http2-settings']);
  t.equal(seen.connection, undefined);
});

t.test('absolute-form is forwarded as received, Host untouched, in its own pool', async (t) => {
  const seen: { url: string | undefined; host: string | undefined }[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    seen.push({ url: req.url, host: req.headers.host });
    res.end('ok');
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET http://auth/ HTTP/1.1\r\nHost: foo.bar\r\n\r\n');
  await c.until((s) => s.endsWith('ok'));
  c.write('GET / HTTP/1.1\r\nHost: foo.bar\r\n\r\n');
  await c.until((s) => s.lastIndexOf('ok') > s.indexOf('ok'));
  t.same(seen, [
    { url: 'http://auth/', host: 'foo.bar' },
    { url: '/', host: 'foo.bar' },
  ]);
  t.equal(origin.connections(), 2, 'absolute-form and origin-form do not share connections');
});

t.test('content-length bodies keep their framing, including 0', async (t) => {
  const seen: { cl: string | undefined; te: string | undefined; body: string }[] = [];
  const origin = await httpOrigin(t, async (req, res) => {
    seen.push({ cl: req.headers['content-length'], te: req.headers['transfer-encoding'], body: (await bodyOf(req)).toString() });
    res.setHeader('content-length', '0');
    res.end();
  });
  const proxy = await startProxy(t, origin.port);
  const client = new Client(`http://127.0.0.1:${proxy.port}`);
  t.teardown(() => client.destroy());
  const r1 = await client.request({ path: '/', method: 'POST', body: 'hello', headers: { 'content-length': '5' } });
  t.equal(r1.headers['content-length'], '0');
  await r1.body.text();
  const r2 = await client.request({ path: '/', method: 'PUT', body: '', headers: { 'content-length': '0' } });
  await r2.body.text();
  const r3 = await client.request({ path: '/', method: 'GET' });
  await r3.body.text();
  t.same(seen, [
    { cl: '5', te: undefined, body: 'hello' },
    { cl: '0', te: undefined, body: '' },
    { cl: undefined, te: undefined, body: '' },
  ]);
});

t.test('chunked request and response bodies pass through byte for byte', async (t) => {
  const reqBody = '4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nx-trailer: t\r\n\r\n';
  const resBody = '3\r\nabc\r\n0\r\n\r\n';
  let upstreamBytes = '';
  const origin = await rawOrigin(t, (s) => {
    s.on('data', (c: Buffer) => {
      upstreamBytes += c.toString('latin1');
      if (upstreamBytes.endsWith('\r\n\r\n') && upstreamBytes.includes('x-trailer')) {
        s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${resBody}`);
      }
    });
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write(`POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${reqBody}`);
  const text = await c.until((s) => s.endsWith(resBody));
  t.equal(upstreamBytes, `POST /up HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n${reqBody}`, 'extensions and trailers intact');
  t.match(text, /transfer-encoding: chunked\r\ndate: [^\r]+\r\n\r\n3\r\nabc\r\n0\r\n\r\n$/);
  // The connection is still usable: the framing was tracked exactly.
  t.equal(c.closed, false);
});

t.test('node:http client: chunked both ways is preserved', async (t) => {
  let te: string | undefined;
  let got = '';
  const origin = await httpOrigin(t, async (req, res) => {
    te = req.headers['transfer-encoding'];
    got = (await bodyOf(req)).toString();
    res.write('part1-');
    res.end('part2');
  });
  const proxy = await startProxy(t, origin.port);
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ port: proxy.port, host: '127.0.0.1', method: 'POST', path: '/' }, resolve);
    req.on('error', reject);
    req.write('a');
    req.end('b');
  });
  t.equal(res.headers['transfer-encoding'], 'chunked');
  t.equal((await bodyOf(res)).toString(), 'part1-part2');
  t.equal(te, 'chunked');
  t.equal(got, 'ab');
});

t.test('bodyless requests never gain transfer-encoding', async (t) => {
  const seen: (string | undefined)[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    seen.push(req.headers['transfer-encoding'] ?? req.headers['content-length']);
    res.end();
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH']) {
    c.write(`${m} / HTTP/1.1\r\nHost: a\r\n\r\n`);
    const n = seen.length;
    await waitFor(() => seen.length > n);
  }
  t.same(seen, [undefined, undefined, undefined, undefined, undefined, undefined]);
});

t.test('HEAD, 204 and 304 responses have no body and no transfer-encoding; HEAD keeps content-length', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        const i = buf.indexOf('\r\n\r\n');
        const line = buf.slice(0, buf.indexOf('\r\n'));
        buf = buf.slice(i + 4);
        if (line.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 55\r\n\r\n');
        else if (line.includes('/204')) s.write('HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n');
        else if (line.includes('/304')) s.write('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n');
        else s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast');
      }
    });
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.until((s) => s.endsWith('\r\n\r\n'));
  t.match(c.text(), /content-length: 55\r\n/i);
  c.write('GET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET /last HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.until((s) => s.endsWith('last'));
  t.notMatch(text, /transfer-encoding/i);
  t.equal(text.split('HTTP/1.1 ').length - 1, 4, 'four responses, no stray bodies');
  t.equal(origin.connections(), 1);
});

t.test('an EOF-delimited HTTP/1.0 response is relayed without length headers, then the connection closes', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => s.end('HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nbody until EOF'));
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.untilClosed();
  t.match(text, /^HTTP\/1\.0 200 OK\r\n/);
  t.notMatch(text, /content-length|transfer-encoding/i);
  t.match(text, /\r\n\r\nbody until EOF$/);
  t.same(proxy.pool.stats(), { idle: 0, active: 0, pending: 0 }, 'never pooled');
});

t.test('HTTP/1.0 requests are forwarded as 1.0 on one-off connections', async (t) => {
  const seen: { version: string; host: string | undefined; url: string | undefined }[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    seen.push({ version: req.httpVersion, host: req.headers.host, url: req.url });
    res.end('ten');
  });
  const proxy = await startProxy(t, origin.port);
  for (const req of ['GET / HTTP/1.0\r\n\r\n', 'GET /h HTTP/1.0\r\nHost: x\r\n\r\n']) {
    const c = await RawClient.open(t, proxy.port);
    c.write(req);
    const text = await c.untilClosed();
    t.match(text, /^HTTP\/1\.0 200 OK\r\n/, 'answered as 1.0 (hyper rewrites the version for 1.0 clients)');
    t.match(text, /ten$/);
  }
  t.same(seen, [
    { version: '1.0', host: undefined, url: '/' },
    { version: '1.0', host: 'x', url: '/h' },
  ]);
  t.equal(origin.connections(), 2);
  t.same(proxy.pool.stats(), { idle: 0, active: 0, pending: 0 });
});

t.test('HTTP/1.0 client asking for keep-alive keeps its connection', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => {
    res.setHeader('content-length', '2');
    res.end('ok');
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
  const text = await c.until((s) => s.endsWith('ok'));
  t.match(text, /^HTTP\/1\.0 200 OK\r\n/);
  t.match(text, /\r\nconnection: keep-alive\r\n/);
  c.write('GET / HTTP/1.0\r\nHost: a\r\n\r\n');
  const second = await c.untilClosed();
  t.equal(second.split('HTTP/1.0 200').length - 1, 2, 'second answered, then closed');
});

t.test('a chunked response to an HTTP/1.0 client is de-chunked and closed', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n'));
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.0\r\nHost: a\r\n\r\n');
  const text = await c.untilClosed();
  t.match(text, /^HTTP\/1\.0 200 OK\r\n/);
  t.notMatch(text, /transfer-encoding/i);
  t.match(text, /\r\n\r\nabcde$/);
});

t.test('an upstream that says connection: close is not reused', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => {
    res.setHeader('connection', 'close');
    res.end('bye');
  });
  const proxy = await startProxy(t, origin.port);
  const client = new Client(`http://127.0.0.1:${proxy.port}`);
  t.teardown(() => client.destroy());
  for (let i = 0; i < 2; i++) {
    const r = await client.request({ path: '/', method: 'GET' });
    t.equal(await r.body.text(), 'bye');
    t.notOk(r.headers.connection, 'the upstream connection header is not relayed');
  }
  t.equal(origin.connections(), 2);
  t.equal(proxy.accepted.length, 1, 'the client connection stays open');
});

t.test('an upstream that silently closes after responding is not reused', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => s.destroy(), 20);
    });
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.until((s) => s.endsWith('ok'));
  await waitFor(() => proxy.pool.stats().idle === 0);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.until((s) => s.split('ok').length === 3);
  t.equal(origin.connections(), 2);
});

t.test('a pooled connection that died unnoticed is replaced for an idempotent request', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    // Answers once, then drops the connection at the next request without replying.
    let n = 0;
    s.on('data', () => {
      if (n++ === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else s.destroy();
    });
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.until((s) => s.endsWith('ok'));
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.until((s) => s.split('ok').length === 3);
  t.equal(text.split('HTTP/1.1 200').length - 1, 2, 'no 502: retried on a fresh connection');
  t.equal(origin.connections(), 2);
});

t.test('pool idle timeout closes idle upstream connections', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => res.end('ok'));
  const proxy = await startProxy(t, origin.port, { pool: { idleTimeoutMs: 100 } });
  const client = new Client(`http://127.0.0.1:${proxy.port}`);
  t.teardown(() => client.destroy());
  const r = await client.request({ path: '/', method: 'GET' });
  await r.body.text();
  t.equal(proxy.pool.stats().idle, 1);
  const up = origin.sockets[0]!;
  await new Promise((resolve) => up.once('close', resolve));
  t.equal(proxy.pool.stats().idle, 0, 'closed by the sweep');
});

t.test('hooks see start, response status and end', async (t) => {
  const events: string[] = [];
  const origin = await httpOrigin(t, (_req, res) => {
    res.statusCode = 201;
    res.end();
  });
  const proxy = await startProxy(t, origin.port, {
    hooks: {
      onRequestStart: (req) => events.push(`start ${req.method} ${req.target}`),
      onResponseHead: (_req, status) => events.push(`head ${status}`),
      onRequestEnd: (_req, status, ms, outcome) => events.push(`end ${status} ${outcome} ${ms >= 0}`),
    },
  });
  const c = await RawClient.open(t, proxy.port);
  c.write('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nz');
  await c.until((s) => s.includes('201'));
  await waitFor(() => events.length === 3);
  t.same(events, ['start POST /x', 'head 201', 'end 201 ok true']);
});

t.test('interim responses reach HTTP/1.1 clients only', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() =>
      s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
    );
  });
  const proxy = await startProxy(t, origin.port);
  const c11 = await RawClient.open(t, proxy.port);
  c11.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(await c11.until((s) => s.endsWith('ok')), /^HTTP\/1\.1 103 Early Hints\r\nlink: <\/a\.css>; rel=preload\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  const c10 = await RawClient.open(t, proxy.port);
  c10.write('GET / HTTP/1.0\r\nHost: a\r\n\r\n');
  t.match(await c10.untilClosed(), /^HTTP\/1\.0 200 OK\r\n/);
});

t.test('a response with both Transfer-Encoding and Content-Length: chunked wins, length dropped, not reused', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'));
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.until((s) => s.endsWith('0\r\n\r\n'));
  t.notMatch(text, /content-length/i);
  t.match(text, /transfer-encoding: chunked\r\ndate: [^\r]+\r\n\r\n2\r\nok\r\n0\r\n\r\n$/);
  await waitFor(() => origin.sockets[0]!.readableEnded || origin.sockets[0]!.closed);
  t.equal(proxy.pool.stats().idle, 0);
});

t.test('HTTP/1.1 requests without Host get one-off upstream connections', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => res.end('x'));
  const counts: number[] = [];
  const proxy = await startProxy(t, origin.port, { decide: () => undefined, hooks: { onRequestStart: (_req, session) => counts.push(session.requestCount) } });
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\n\r\n');
  await c.until((s) => s.endsWith('x'));
  c.write('GET / HTTP/1.1\r\nHost: \r\n\r\n');
  await c.until((s) => s.split('HTTP/1.1 200').length === 3);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.until((s) => s.split('HTTP/1.1 200').length === 4);
  t.equal(origin.connections(), 3, 'no Host and empty Host are never pooled');
  t.equal(proxy.pool.stats().idle, 1, 'the Host-bearing request left its connection in the pool');
  t.same(counts, [1, 2, 3]);
});
