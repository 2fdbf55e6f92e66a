// HTTP/1 transparency through the real proxy's outbound side (spec §4.8, §5.8; upstream
// transparency.rs): framing, versions, hop-by-hop headers and absolute-form, with real clients.
import http from 'node:http';
import t from 'tap';
import { Agent, request } from 'undici';
import { curl, httpOrigin, keepAliveOrigin, parseCurlOutput, rawClient, rawOrigin, serviceMesh } from './outbound-http-helpers.js';

const HOST = 'web.test.svc.cluster.local';

t.test('outbound_http1: a GET through the outbound proxy returns the origin body (curl)', async (t) => {
  const origin = await httpOrigin(t, (req, res) => {
    res.setHeader('x-seen-host', String(req.headers.host));
    res.end(`hello ${req.url}`);
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const r = await curl(['-i', '-H', `Host: ${HOST}`, `http://127.0.0.1:${mesh.outboundPort}/path?q=1`]);
  t.equal(r.code, 0, r.stderr);
  const res = parseCurlOutput(r.stdout);
  t.equal(res.status, 200);
  t.equal(res.body.toString(), 'hello /path?q=1');
  t.equal(res.headers.get('x-seen-host'), HOST, 'Host reaches the origin unchanged');
});

t.test('http1_removes_connection_headers: Connection-named, keep-alive and proxy-connection headers go both ways', async (t) => {
  const origin = await keepAliveOrigin(t, () =>
    'HTTP/1.1 200 OK\r\nconnection: x-server-quux\r\nx-server-quux: gone\r\nkeep-alive: timeout=5\r\nproxy-connection: keep-alive\r\nx-kept: yes\r\ncontent-length: 2\r\n\r\nok',
  );
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(
    `GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: x-foo-bar, keep-alive\r\nX-Foo-Bar: secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nX-App: 1\r\n\r\n`,
  );
  const res = await c.reader.response();
  t.equal(res.status, 200);
  const req = origin.requests[0]!;
  for (const h of ['connection', 'x-foo-bar', 'keep-alive', 'proxy-connection']) t.notOk(req.headers.has(h), `request ${h} stripped`);
  t.equal(req.headers.get('x-app'), '1', 'end-to-end request headers kept');
  t.equal(req.headers.get('te'), 'trailers', 'TE is end-to-end for HTTP/1, as in the Rust proxy');
  for (const h of ['x-server-quux', 'keep-alive', 'proxy-connection']) t.notOk(res.headers.has(h), `response ${h} stripped`);
  t.notOk(res.headers.has('connection'), 'the upstream Connection header is not relayed');
  t.equal(res.headers.get('x-kept'), 'yes');
  t.equal(res.body.toString(), 'ok');
});

t.test('outgoing header names are lower-case, as hyper writes them', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\nX-Upstream-Mixed: v\r\ncontent-length: 0\r\n\r\n');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Mixed-Case: v\r\nUser-Agent: raw\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.status, 200);
  const req = origin.requests[0]!;
  t.same(req.names, ['host', 'x-mixed-case', 'user-agent'], 'request header names lower-cased, order kept');
  t.ok(res.names.includes('x-upstream-mixed'), 'response header names lower-cased too');
});

t.test('http10_with_host: an HTTP/1.0 request stays HTTP/1.0 end to end, on a one-off connection', async (t) => {
  const origin = await keepAliveOrigin(t, (req) => `HTTP/1.0 200 OK\r\ncontent-length: ${req.line.length}\r\n\r\n${req.line}`);
  const mesh = await serviceMesh(t, [origin.port]);
  for (let i = 0; i < 2; i++) {
    const c = await rawClient(t, mesh.outboundPort);
    c.socket.write(`GET /ten HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`);
    const res = await c.reader.response();
    t.equal(res.line, 'HTTP/1.0 200 OK', 'the response is HTTP/1.0');
    t.equal(res.body.toString(), 'GET /ten HTTP/1.0', 'the origin saw an HTTP/1.0 request line');
    t.ok(await c.reader.closedWithin(2000), 'the client connection closes after an HTTP/1.0 exchange');
  }
  t.equal(origin.requests[0]!.headers.get('host'), HOST, 'Host kept');
  t.equal(origin.conns.length, 2, 'each HTTP/1.0 request used its own upstream connection');
});

t.test('http10_without_host: no Host is added; the request is forwarded as it came', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write('GET / HTTP/1.0\r\n\r\n');
  const res = await c.reader.response();
  t.equal(res.line, 'HTTP/1.0 200 OK');
  const req = origin.requests[0]!;
  t.equal(req.line, 'GET / HTTP/1.0');
  t.notOk(req.headers.has('host'), 'the proxy adds no Host');
});

t.test('HTTP/1.0 keep-alive: Connection: keep-alive keeps the client connection for a length-delimited response', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => {
    res.setHeader('content-length', '2');
    res.end('ok');
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  for (let i = 0; i < 2; i++) {
    c.socket.write(`GET /${i} HTTP/1.0\r\nHost: ${HOST}\r\nConnection: keep-alive\r\n\r\n`);
    const res = await c.reader.response();
    t.equal(res.line, 'HTTP/1.0 200 OK', `response ${i} is HTTP/1.0`);
    t.equal(res.headers.get('connection'), 'keep-alive', 'keep-alive is confirmed to an HTTP/1.0 client');
    t.equal(res.body.toString(), 'ok');
  }
  t.notOk(await c.reader.closedWithin(200), 'the connection stays open');
});

t.test('HTTP/1.1 Connection: close: the response says close and the proxy closes the client connection', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.status, 200);
  t.equal(res.headers.get('connection'), 'close');
  t.ok(await c.reader.closedWithin(2000), 'closed after the response');
  t.notOk(origin.requests[0]!.headers.has('connection'), 'the Connection header itself is hop-by-hop');
});

t.test('http11_absolute_uri_differs_from_host: the absolute URI and Host are both passed through', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write('GET http://transparency.test.svc.cluster.local/x?y HTTP/1.1\r\nHost: foo.bar\r\n\r\n');
  t.equal((await c.reader.response()).status, 200);
  const req = origin.requests[0]!;
  t.equal(req.line, 'GET http://transparency.test.svc.cluster.local/x?y HTTP/1.1', 'absolute-form kept');
  t.equal(req.headers.get('host'), 'foo.bar', 'Host kept');
});

t.test('absolute-form and origin-form requests use separate upstream connections', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  for (const target of ['/a', `http://${HOST}/b`, '/c', `http://${HOST}/d`]) {
    c.socket.write(`GET ${target} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    t.equal((await c.reader.response()).status, 200);
  }
  const byConn = origin.requests.map((r) => `${r.conn}:${r.line.split(' ')[1]!}`);
  const originForm = new Set(origin.requests.filter((r) => r.line.includes(' /')).map((r) => r.conn));
  const absolute = new Set(origin.requests.filter((r) => r.line.includes(' http://')).map((r) => r.conn));
  t.equal(originForm.size, 1, `origin-form requests share a connection (${byConn.join(' ')})`);
  t.equal(absolute.size, 1, 'absolute-form requests share another');
  t.not([...originForm][0], [...absolute][0], 'the two pools are separate');
});

t.test('http1_one_connection_per_host: each Host has its own pooled upstream connections', async (t) => {
  const origin = await keepAliveOrigin(t, (req) => {
    const path = req.line.split(' ')[1];
    return path === '/body' ? 'HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello hosts' : 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n';
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  const expected: [string, number][] = [['foo.bar', 1], ['foo.bar', 1], ['bar.baz', 2], ['bar.baz', 2], ['quuuux.com', 3], ['FOO.bar', 3]];
  for (const [host, conns] of expected) {
    for (const path of ['/no-body', '/body']) {
      c.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      t.equal((await c.reader.response()).status, 200);
      t.equal(origin.conns.length, conns, `${host} ${path}: ${conns} upstream connection(s)`);
    }
  }
});

t.test('requests without Host: one-off connections', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  const send = async (head: string): Promise<void> => {
    c.socket.write(head);
    t.equal((await c.reader.response()).status, 200);
  };
  await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  await send('GET / HTTP/1.1\r\nHost:\r\n\r\n');
  await send('GET / HTTP/1.1\r\nHost:\r\n\r\n');
  await send(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const conns = origin.requests.map((r) => r.conn);
  t.equal(conns[0], conns[1], 'requests with Host reuse a pooled connection');
  t.not(conns[2], conns[3], 'each request with an empty Host gets its own connection');
  t.not(conns[2], conns[0]);
  t.not(conns[3], conns[0]);
  t.equal(conns[4], conns[0], 'the pooled connection is still used afterwards');
  t.equal(origin.conns.length, 3);
});

t.test('http1_request_with_body_content_length: Content-Length (including 0) is preserved on requests and responses', async (t) => {
  const origin = await keepAliveOrigin(t, (req) => `HTTP/1.1 200 OK\r\ncontent-length: ${req.body.length}\r\n\r\n${req.body.toString()}`);
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\n\r\nhello`);
  const res = await c.reader.response();
  t.equal(res.body.toString(), 'hello');
  t.equal(origin.requests[0]!.headers.get('content-length'), '5');
  t.notOk(origin.requests[0]!.headers.has('transfer-encoding'));
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD']) {
    c.socket.write(`${method} / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 0\r\n\r\n`);
    const r = await c.reader.response({ head: method === 'HEAD' });
    t.equal(r.headers.get('content-length'), '0', `${method}: content-length: 0 in the response`);
    const seen = origin.requests.at(-1)!;
    t.equal(seen.headers.get('content-length'), '0', `${method}: content-length: 0 reaches the origin`);
    t.notOk(seen.headers.has('transfer-encoding'), `${method}: no transfer-encoding added`);
  }
});

t.test('http1_requests_without_body_doesnt_add_transfer_encoding (node:http client)', async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => res.end());
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH']) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: mesh.outboundPort, method, path: '/', agent, headers: { host: HOST } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    t.equal(status, 200, method);
    const h = seen.at(-1)!;
    t.notOk('transfer-encoding' in h, `${method}: no transfer-encoding`);
  }
});

t.test('http1_request_with_body_chunked: chunked requests and responses stay chunked, trailers included', async (t) => {
  const origin = await keepAliveOrigin(
    t,
    (req) => `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\n\r\n${req.body.length.toString(16)}\r\n${req.body.toString('latin1')}\r\n0\r\nx-sum: 42\r\n\r\n`,
  );
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  const body = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: yes\r\n\r\n';
  c.socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nTrailer: x-trailer\r\n\r\n${body}`);
  const res = await c.reader.response();
  const req = origin.requests[0]!;
  t.equal(req.headers.get('transfer-encoding'), 'chunked', 'the request stays chunked');
  t.equal(req.body.toString(), body, 'chunk extensions and trailers reach the origin byte for byte');
  t.equal(res.headers.get('transfer-encoding'), 'chunked', 'the response stays chunked');
  t.match(res.body.toString(), /0\r\nx-sum: 42\r\n\r\n$/, 'response trailers reach the client');
  t.equal(req.headers.get('trailer'), 'x-trailer', 'Trailer is end-to-end here (hyper keeps it)');
});

t.test('chunked response trailers arrive at an undici client', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => {
    res.setHeader('trailer', 'x-checksum');
    res.write('part1 ');
    res.write('part2');
    res.addTrailers({ 'x-checksum': 'abc' });
    res.end();
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  const res = await request(`http://127.0.0.1:${mesh.outboundPort}/`, { dispatcher, headers: { host: HOST } });
  t.equal(await res.body.text(), 'part1 part2');
  t.equal(res.trailers['x-checksum'], 'abc');
});

t.test('http1_bodyless_responses and http1_head_responses: HEAD, 204 and 304 carry no body and no transfer-encoding', async (t) => {
  const origin = await keepAliveOrigin(t, (req) => {
    const path = req.line.split(' ')[1];
    if (path === '/204') return 'HTTP/1.1 204 No Content\r\n\r\n';
    if (path === '/304') return 'HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n';
    return 'HTTP/1.1 200 OK\r\ncontent-length: 55\r\n\r\n';
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`HEAD / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const head = await c.reader.response({ head: true });
  t.equal(head.headers.get('content-length'), '55', 'HEAD keeps the upstream content-length');
  t.notOk(head.headers.has('transfer-encoding'));
  for (const s of [204, 304]) {
    c.socket.write(`GET /${s} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
    const r = await c.reader.response();
    t.equal(r.status, s);
    t.notOk(r.headers.has('transfer-encoding'), `${s}: no transfer-encoding`);
  }
  c.socket.write(`GET /last HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  t.equal((await c.reader.response({ head: true })).status, 200, 'nothing was left on the connection after the bodyless responses');
  t.equal(c.reader.buffered, 0);
});

t.test('http1_response_end_of_file: an EOF-delimited HTTP/1.0 response is relayed without added length headers', async (t) => {
  const origin = await keepAliveOrigin(t, (_req, c) => {
    setTimeout(() => c.socket.end(), 50);
    return 'HTTP/1.0 200 OK\r\nx-eof: yes\r\n\r\neof body part one; part two';
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.status, 200);
  t.notOk(res.headers.has('content-length'), 'no content-length added');
  t.notOk(res.headers.has('transfer-encoding'), 'no transfer-encoding added');
  t.equal(res.body.toString(), 'eof body part one; part two', 'the body is intact up to EOF');
  const viaCurl = await curl(['-i', '-H', `Host: ${HOST}`, `http://127.0.0.1:${mesh.outboundPort}/`]);
  t.equal(parseCurlOutput(viaCurl.stdout).body.toString(), 'eof body part one; part two', 'curl reads it to EOF as well');
});

t.test('pipelined requests are answered in order on one connection', async (t) => {
  const origin = await keepAliveOrigin(t, (req) => {
    const path = req.line.split(' ')[1]!;
    return `HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\n\r\n${path}`;
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  let burst = '';
  for (let i = 0; i < 20; i++) burst += `GET /p${i} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
  burst += `POST /post HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 3\r\n\r\nabcGET /last HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
  c.socket.write(burst);
  const bodies: string[] = [];
  for (let i = 0; i < 22; i++) bodies.push((await c.reader.response()).body.toString());
  t.same(bodies, [...Array.from({ length: 20 }, (_, i) => `/p${i}`), '/post', '/last']);
  t.equal(new Set(origin.requests.map((r) => r.conn)).size, 1, 'one upstream connection carried them all');
  t.equal(origin.requests[20]!.body.toString(), 'abc');
});

t.test('undici with pipelining through the proxy', async (t) => {
  const origin = await httpOrigin(t, (req, res) => res.end(req.url));
  const mesh = await serviceMesh(t, [origin.port]);
  const dispatcher = new Agent({ pipelining: 8, connections: 1 });
  t.teardown(() => dispatcher.close());
  const all = await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const r = await request(`http://127.0.0.1:${mesh.outboundPort}/u${i}`, { dispatcher, headers: { host: HOST } });
      return r.body.text();
    }),
  );
  t.same(all, Array.from({ length: 40 }, (_, i) => `/u${i}`));
});

t.test('a client that half-closes after its request still gets the response', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ndone');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.end(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.body.toString(), 'done');
  t.ok(await c.reader.closedWithin(2000), 'then the proxy closes');
});

t.test('interim 1xx responses (103 Early Hints) reach an HTTP/1.1 client before the final one', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const early = await c.reader.response();
  t.equal(early.status, 103);
  t.equal(early.headers.get('link'), '</style.css>; rel=preload');
  const final = await c.reader.response();
  t.equal(final.status, 200);
  t.equal(final.body.toString(), 'ok');
});

t.test('a chunked response to an HTTP/1.0 client is de-chunked and delimited by close', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\nx-t: 1\r\n\r\n');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.line, 'HTTP/1.0 200 OK');
  t.notOk(res.headers.has('transfer-encoding'), 'no chunked framing for HTTP/1.0');
  t.equal(res.body.toString(), 'abcdefg', 'the payload alone, up to EOF');
});

t.test('a response body slower than the client: small writes are relayed as they come', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET /stream HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const up = await origin.next();
  await up.reader.until('\r\n\r\n');
  up.socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
  await c.reader.until('\r\n\r\n');
  for (let i = 0; i < 3; i++) {
    up.socket.write(`1\r\n${i}\r\n`);
    t.equal(await c.reader.until(`1\r\n${i}\r\n`), `1\r\n${i}\r\n`, `chunk ${i} relayed before the next is written`);
  }
  up.socket.write('0\r\n\r\n');
  t.equal(await c.reader.until('0\r\n\r\n'), '0\r\n\r\n');
});

t.test('an absolute-form request without Host gets one from its URI (hyper’s client sets it); origin-form gets none', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write('GET http://web.test.svc.cluster.local:8080/p HTTP/1.1\r\n\r\n');
  t.equal((await c.reader.response()).status, 200);
  t.equal(origin.requests[0]!.headers.get('host'), 'web.test.svc.cluster.local:8080');
  t.equal(origin.requests[0]!.line, 'GET http://web.test.svc.cluster.local:8080/p HTTP/1.1');
  const c2 = await rawClient(t, mesh.outboundPort);
  c2.socket.write('GET /p HTTP/1.1\r\n\r\n');
  t.equal((await c2.reader.response()).status, 200);
  t.notOk(origin.requests[1]!.headers.has('host'));
});

t.test('a response without Date gets one, last, as hyper’s server writes it; an existing Date is kept', async (t) => {
  const origin = await keepAliveOrigin(t, (req) =>
    req.line.includes('/dated') ? 'HTTP/1.1 200 OK\r\ndate: Mon, 01 Jan 2024 00:00:00 GMT\r\ncontent-length: 0\r\n\r\n' : 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
  );
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET /undated HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const res = await c.reader.response();
  t.same(res.names, ['content-length', 'date']);
  t.ok(Math.abs(Date.parse(res.headers.get('date')!) - Date.now()) < 5000, 'an IMF-fixdate of now');
  c.socket.write(`GET /dated HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const dated = await c.reader.response();
  t.equal(dated.headers.get('date'), 'Mon, 01 Jan 2024 00:00:00 GMT', 'kept, not duplicated');
});
