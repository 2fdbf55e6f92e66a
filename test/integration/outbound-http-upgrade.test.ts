// Upgrades and CONNECT through the real proxy's outbound side (spec §4.8, §5.7, §5.8): the 101 or
// 2xx is relayed and the connection becomes a byte splice both ways; h2c upgrades are refused.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import t from 'tap';
import { httpOrigin, keepAliveOrigin, parseHead, rawClient, rawOrigin, serviceMesh } from './outbound-http-helpers.js';

const HOST = 'web.test.svc.cluster.local';

t.test('http11_upgrades: the 101 is relayed with lower-case names, then bytes flow both ways', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET /chat HTTP/1.1\r\nHost: ${HOST}\r\nConnection: upgrade\r\nUpgrade: chatproto\r\n\r\n`);
  const up = await origin.next();
  const head = await up.reader.until('\r\n\r\n');
  t.match(head, /\r\nupgrade: chatproto\r\n/, 'Upgrade is forwarded, lower-cased');
  t.match(head, /\r\nconnection: upgrade\r\n/, 'and so is Connection: upgrade');
  up.socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: chatproto\r\n\r\nhello client');
  const res = parseHead(await c.reader.until('\r\n\r\n'));
  t.equal(res.status, 101);
  t.equal(res.headers.get('upgrade'), 'chatproto');
  t.equal((await c.reader.bytes(12)).toString(), 'hello client', 'bytes after the 101 reach the client');
  c.socket.write('hello server');
  t.equal((await up.reader.bytes(12)).toString(), 'hello server', 'client bytes reach the origin');
  const big = crypto.randomBytes(2 * 1024 * 1024);
  c.socket.write(big);
  t.ok((await up.reader.bytes(big.length)).equals(big), '2 MiB spliced upstream intact');
  up.socket.write(big);
  t.ok((await c.reader.bytes(big.length)).equals(big), '2 MiB spliced downstream intact');
  c.socket.end();
  t.ok(await up.reader.closedWithin(2000), "the client's FIN reaches the origin");
  up.socket.end();
  t.ok(await c.reader.closedWithin(2000), "and the origin's FIN the client");
});

t.test('a WebSocket handshake and frames through the proxy (node:http on both ends)', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => res.end('not a websocket'));
  origin.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const key = String(req.headers['sec-websocket-key']);
    const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    // Echo every byte: frames come back as sent.
    socket.pipe(socket);
  });
  const mesh = await serviceMesh(t, [origin.port]);
  const key = crypto.randomBytes(16).toString('base64');
  const { res, socket, head } = await new Promise<{ res: http.IncomingMessage; socket: net.Socket; head: Buffer }>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: mesh.outboundPort,
      path: '/ws',
      headers: { host: HOST, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key },
    });
    req.on('upgrade', (res, socket, head) => resolve({ res, socket, head }));
    req.on('response', (r) => reject(new Error(`no upgrade: ${r.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
  t.teardown(() => socket.destroy());
  t.equal(res.statusCode, 101);
  t.equal(res.headers['sec-websocket-accept'], crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64'));
  // A masked text frame "hi" (FIN, opcode 1, mask bit, length 2).
  const mask = Buffer.from([1, 2, 3, 4]);
  const frame = Buffer.concat([Buffer.from([0x81, 0x82]), mask, Buffer.from([0x68 ^ 1, 0x69 ^ 2])]);
  const got: Buffer[] = head.length > 0 ? [head] : [];
  socket.on('data', (c: Buffer) => got.push(c));
  socket.write(frame);
  for (let i = 0; i < 100 && Buffer.concat(got).length < frame.length; i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(Buffer.concat(got).equals(frame), 'the frame went to the origin and came back unchanged');
});

t.test('http11_upgrade_h2_stripped: Upgrade: h2c is never honoured; the request is plain HTTP/1.1', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.status, 200);
  const req = origin.requests[0]!;
  for (const h of ['upgrade', 'http2-settings', 'connection']) t.notOk(req.headers.has(h), `${h} removed`);
  c.socket.write(`GET /again HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  t.equal((await c.reader.response()).status, 200, 'the connection stays HTTP/1.1');
});

t.test('an upgrade the origin declines is an ordinary response; the connection stays HTTP', async (t) => {
  const origin = await keepAliveOrigin(t, () => 'HTTP/1.1 400 Bad Request\r\ncontent-length: 4\r\n\r\nnope');
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: upgrade\r\nUpgrade: chatproto\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.status, 400);
  t.equal(res.body.toString(), 'nope');
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  t.equal((await c.reader.response()).status, 400, 'a second request is served on the same connection');
});

t.test('http11_connect and http11_connect_headers_stripped: CONNECT 2xx loses its framing headers and tunnels', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  const c = await rawClient(t, mesh.outboundPort);
  c.socket.write(`CONNECT ${HOST}:443 HTTP/1.1\r\nHost: ${HOST}:443\r\n\r\n`);
  const up = await origin.next();
  const head = await up.reader.until('\r\n\r\n');
  t.match(head, new RegExp(`^CONNECT ${HOST}:443 HTTP/1.1\\r\\n`), 'CONNECT forwarded in authority-form');
  up.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\ntransfer-encoding: chunked\r\nx-tunnel: yes\r\n\r\n');
  const res = parseHead(await c.reader.until('\r\n\r\n'));
  t.equal(res.status, 200);
  t.notOk(res.headers.has('content-length'), 'content-length dropped from the CONNECT 2xx');
  t.notOk(res.headers.has('transfer-encoding'), 'transfer-encoding dropped too');
  t.equal(res.headers.get('x-tunnel'), 'yes');
  c.socket.write('\x16\x03\x01 tls-ish bytes');
  t.equal((await up.reader.bytes(17)).toString('latin1'), '\x16\x03\x01 tls-ish bytes', 'tunnelled upstream');
  up.socket.write('server bytes');
  t.equal((await c.reader.bytes(12)).toString(), 'server bytes', 'tunnelled downstream');
});

t.test('http11_connect_bad_requests: malformed CONNECT and authority-form requests get 400 locally, then close', async (t) => {
  const origin = await rawOrigin(t);
  const mesh = await serviceMesh(t, [origin.port]);
  const cases: [string, string][] = [
    ['CONNECT /origin-form HTTP/1.1\r\nHost: test\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['CONNECT / HTTP/1.1\r\nHost: test\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['CONNECT http://test/bar HTTP/1.1\r\nHost: test\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['CONNECT http://test HTTP/1.1\r\nHost: test\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['CONNECT * HTTP/1.1\r\nHost: test\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['GET test HTTP/1.1\r\nHost: test\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['CONNECT test HTTP/1.0\r\nHost: test\r\n\r\n', 'HTTP/1.0 400 Bad Request'],
  ];
  for (const [req, line] of cases) {
    const c = await rawClient(t, mesh.outboundPort);
    c.socket.write(req);
    const res = await c.reader.response();
    t.equal(res.line, line, JSON.stringify(req.split('\r\n')[0]));
    t.ok(await c.reader.closedWithin(2000), 'and the connection is closed');
  }
  t.equal(origin.conns.length, 0, 'nothing reached the origin');
});
