import net from 'node:net';
import t from 'tap';
import type { ForwardDecision } from '../../../../src/http/h1/handler.js';
import { Http1Pool } from '../../../../src/http/h1/pool.js';
import { socketAddr } from '../../../../src/transport/addr.js';
import { ConnectError } from '../../../../src/transport/connect.js';
import { RawClient, bodyOf, httpOrigin, rawOrigin, readHead, startProxy, waitFor } from './helpers/harness.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

t.test('malformed requests get 400 and a closed connection; nothing reaches the origin', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => res.end('should not happen'));
  const rejected: number[] = [];
  const proxy = await startProxy(t, origin.port, { hooks: { onBadRequest: (status) => rejected.push(status) } });
  const cases: [string, RegExp][] = [
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['GET / HTTP/1.1\r\nHost : a\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['GET / HTTP/1.1\nHost: a\n\n', /^HTTP\/1\.1 400 /],
    ['POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['GET test HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['CONNECT /origin-form HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['CONNECT test:443 HTTP/1.0\r\n\r\n', /^HTTP\/1\.0 400 Bad Request\r\n/],
    ['\u0016\u0003\u0001garbage\r\n\r\n', /^HTTP\/1\.1 400 /],
  ];
  for (const [raw, expected] of cases) {
    const c = await RawClient.open(t, proxy.port);
    c.write(raw);
    const text = await c.untilClosed();
    t.match(text, expected, JSON.stringify(raw));
    t.match(text, /content-length: 0\r\n/);
  }
  t.equal(origin.connections(), 0);
  t.equal(rejected.length, cases.length, 'onBadRequest saw each');
});

t.test('oversized heads get 431', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => res.end());
  const proxy = await startProxy(t, origin.port);
  const big = await RawClient.open(t, proxy.port);
  big.write(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(70 * 1024)}\r\n\r\n`);
  t.match(await big.untilClosed(), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  const many = await RawClient.open(t, proxy.port);
  many.write(`GET / HTTP/1.1\r\n${Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`);
  t.match(await many.untilClosed(), /^HTTP\/1\.1 431 /);
  t.equal(origin.connections(), 0);
});

t.test('upstream refused: 502 with l5d-proxy-error when headers are emitted', async (t) => {
  const port = await closedPort();
  const meshed = await startProxy(t, port, { serve: { emitHeaders: true } });
  const c = await RawClient.open(t, meshed.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.untilClosed();
  t.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  t.match(text, /\r\nl5d-proxy-error: [^\r\n]*ECONNREFUSED[^\r\n]*\r\n/);
  t.match(text, /\r\nconnection: close\r\n/);
  t.match(text, /\r\nl5d-proxy-connection: close\r\n/);

  const plain = await startProxy(t, port);
  const p = await RawClient.open(t, plain.port);
  p.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const quiet = await p.untilClosed();
  t.match(quiet, /^HTTP\/1\.1 502 /);
  t.notMatch(quiet, /l5d-/, 'no informational headers to unmeshed clients');
});

t.test('connect timeout: 504', async (t) => {
  const pool = new Http1Pool();
  const slow: ForwardDecision = {
    kind: 'forward',
    pool,
    target: {
      key: 'never',
      connect: () => Promise.reject(new ConnectError(socketAddr('10.255.255.1', 80), 'connect-timeout', 'timed out after 1000ms')),
    },
  };
  const proxy = await startProxy(t, 1, { decide: () => slow, serve: { emitHeaders: true } });
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const text = await c.untilClosed();
  t.match(text, /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
  t.match(text, /l5d-proxy-error: connect to 10\.255\.255\.1:80 failed: timed out/);
});

t.test('response timeout: 504 and the upstream connection is dropped', async (t) => {
  const origin = await rawOrigin(t, (s) => s.resume());
  const proxy = await startProxy(t, origin.port, { forward: { responseTimeoutMs: 100 } });
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(await c.untilClosed(), /^HTTP\/1\.1 504 /);
  await waitFor(() => origin.sockets[0]?.readableEnded === true);
  t.same(proxy.pool.stats(), { idle: 0, active: 0, pending: 0 });
});

t.test('an invalid upstream response is a 502', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx'));
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(await c.untilClosed(), /^HTTP\/1\.1 502 /);
});

t.test('an upstream reset mid-response resets the client connection', async (t) => {
  const origin = await rawOrigin(t, (s) => {
    void readHead(s).then(() => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b');
      setTimeout(() => s.resetAndDestroy(), 30);
    });
  });
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitFor(() => c.closed);
  t.match(c.text(), /only ten b$/, 'what arrived was relayed');
  t.equal(c.ended, false, 'no clean FIN that could pass for the end of the body');
});

t.test('a local answer keeps the connection and skips the request body', async (t) => {
  const seen: string[] = [];
  const origin = await httpOrigin(t, async (req, res) => {
    seen.push(`${req.method} ${req.url} ${(await bodyOf(req)).toString()}`);
    res.end('forwarded');
  });
  const proxy = await startProxy(t, origin.port, {
    decide: (req) => (req.target === '/deny' ? { kind: 'respond', response: { status: 403, message: 'unauthorized', close: false } } : undefined),
  });
  const c = await RawClient.open(t, proxy.port);
  c.write('POST /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world');
  c.write('POST /deny HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  c.write('POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi');
  const text = await c.until((s) => s.endsWith('forwarded'));
  t.equal(text.split('HTTP/1.1 403 Forbidden').length - 1, 2);
  t.same(seen, ['POST /ok hi'], 'the denied bodies were dropped, not forwarded');
  t.equal(c.closed, false);
});

t.test('a closing local answer says connection: close and closes', async (t) => {
  const proxy = await startProxy(t, 1, {
    decide: () => ({ kind: 'respond', response: { status: 503, message: 'max in flight', close: true } }),
    serve: { emitHeaders: true },
  });
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /never HTTP/1.1\r\n\r\n');
  const text = await c.untilClosed();
  t.match(text, /^HTTP\/1\.1 503 Service Unavailable\r\ncontent-length: 0\r\nl5d-proxy-error: max in flight\r\nconnection: close\r\n/);
  t.equal(text.split('HTTP/1.1').length - 1, 1, 'the pipelined request was not served');
});

t.test('a throwing or rejecting route is a 500; async routes work', async (t) => {
  let n = 0;
  const origin = await httpOrigin(t, (_req, res) => res.end('async ok'));
  const proxy = await startProxy(t, origin.port, {
    decide: (req) => {
      n++;
      if (req.target === '/throw') throw new Error('boom');
      if (req.target === '/reject') return Promise.reject(new Error('later boom'));
      return undefined;
    },
  });
  for (const path of ['/throw', '/reject']) {
    const c = await RawClient.open(t, proxy.port);
    c.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
    t.match(await c.untilClosed(), /^HTTP\/1\.1 500 Internal Server Error\r\n/, path);
  }
  const asyncProxy = await startProxy(t, origin.port, {
    decide: () => new Promise((resolve) => setTimeout(() => resolve({ kind: 'respond', response: { status: 404, close: false } }), 10)),
  });
  const c = await RawClient.open(t, asyncProxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  t.match(await c.until((s) => s.includes('\r\n\r\n')), /^HTTP\/1\.1 404 Not Found\r\n/);
  t.equal(n, 2);
});

t.test('a broken chunked request body: 400, upstream connection dropped', async (t) => {
  const origin = await rawOrigin(t, (s) => s.resume());
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX');
  t.match(await c.untilClosed(), /^HTTP\/1\.1 400 /);
  await waitFor(() => origin.sockets[0]?.readableEnded === true);
});

t.test('a client that leaves mid-body: the upstream connection is closed, not pooled', async (t) => {
  const origin = await rawOrigin(t, (s) => s.resume());
  const proxy = await startProxy(t, origin.port);
  const c = await RawClient.open(t, proxy.port);
  c.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial');
  await waitFor(() => origin.sockets.length === 1);
  c.socket.destroy();
  await waitFor(() => origin.sockets[0]!.readableEnded);
  await Promise.all(proxy.served);
  t.same(proxy.pool.stats(), { idle: 0, active: 0, pending: 0 });
});

t.test('request and response edits; onResponseHead can close the client connection', async (t) => {
  let clientId: string | undefined;
  const origin = await httpOrigin(t, (req, res) => {
    clientId = req.headers['l5d-client-id'] as string | undefined;
    res.setHeader('l5d-proxy-error', 'upstream text');
    res.setHeader('l5d-proxy-connection', 'close');
    res.end('edited');
  });
  const proxy = await startProxy(t, origin.port, {
    forward: {
      requestEdits: { set: [['l5d-client-id', 'web.default.serviceaccount.identity.linkerd.cluster.local']] },
      responseEdits: { remove: ['l5d-proxy-error', 'l5d-proxy-connection'] },
      onResponseHead: (res) => res.header('l5d-proxy-connection') === 'close',
    },
  });
  const c = await RawClient.open(t, proxy.port);
  c.write('GET / HTTP/1.1\r\nHost: a\r\nl5d-client-id: spoofed\r\n\r\n');
  const text = await c.untilClosed();
  t.equal(clientId, 'web.default.serviceaccount.identity.linkerd.cluster.local');
  t.notMatch(text, /l5d-proxy/);
  t.match(text, /\r\nconnection: close\r\n/);
  t.match(text, /edited$/);
});
