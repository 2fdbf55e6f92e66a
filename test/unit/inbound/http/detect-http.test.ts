// HTTP detection on real loopback sockets: one read, classification, bytes put back, EOF/timeout.
import net from 'node:net';
import t, { type Test } from 'tap';
import { classifyHttp, detectHttp, inboundDetectDecision, type HttpDetected } from '../../../../src/inbound/http/detect-http.js';
import { listen } from './helpers/harness.js';

interface Accepted {
  readonly socket: net.Socket;
  readonly client: net.Socket;
}

/** A connected pair: `client` is ours to write; `socket` is the accepted side, not yet read. */
async function pair(t: Test): Promise<Accepted> {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  const port = await listen(server);
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  client.on('error', () => undefined);
  const socket = await accepted;
  socket.on('error', () => undefined);
  t.teardown(() => {
    client.destroy();
    socket.destroy();
    server.close();
  });
  await new Promise((resolve) => (client.connecting ? client.once('connect', resolve) : resolve(undefined)));
  return { socket, client };
}

/** Detection after the bytes have surely arrived (one read sees them all). */
async function detectAfter(p: Accepted, bytes: string | Buffer, opts: { end?: boolean; prefetch?: boolean } = {}): Promise<HttpDetected> {
  p.client.write(bytes);
  if (opts.end === true) p.client.end();
  // Start the socket reading, so data and FIN are both in its buffer when detection begins.
  if (opts.prefetch === true) p.socket.read(0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return detectHttp(p.socket, { timeoutMs: 2000 });
}

/** Everything the socket yields from now on, until its EOF. */
function readAll(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

t.test('an HTTP/1 request line is HTTP/1, and its bytes stay readable', async (t) => {
  const p = await pair(t);
  const req = 'GET /hello HTTP/1.1\r\nHost: web\r\n\r\n';
  const d = await detectAfter(p, req);
  t.equal(d.kind, 'http1');
  t.equal(d.buffered.toString('latin1'), req);
  const all = readAll(p.socket);
  p.client.end();
  t.equal((await all).toString('latin1'), req, 'the next reader sees the detected bytes first');
});

t.test('the HTTP/2 preface is h2', async (t) => {
  const p = await pair(t);
  const d = await detectAfter(p, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  t.equal(d.kind, 'h2');
  t.equal(d.buffered.length, 24);
});

t.test('a partial request line of 14+ bytes is enough for HTTP/1', async (t) => {
  const p = await pair(t);
  t.equal((await detectAfter(p, 'POST /some/long/pa')).kind, 'http1');
});

t.test('TLS bytes and other binary data are opaque', async (t) => {
  const p = await pair(t);
  const hello = Buffer.from('160301020001000200030300000000000000000000000000000000000000', 'hex');
  t.equal((await detectAfter(p, hello)).kind, 'opaque');
  t.equal(classifyHttp(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian\r\n', 'latin1')), 'opaque');
  t.equal(classifyHttp(Buffer.from('GET / HTTP/2.0\r\n\r\n', 'latin1')), 'opaque', 'only HTTP/1.0 and 1.1 request lines');
  t.equal(classifyHttp(Buffer.from('GET / HTTP/1.1\r\nBad Header: x\r\n', 'latin1')), 'opaque', 'header names are tokens');
  t.equal(classifyHttp(Buffer.from('\r\nGET / HTTP/1.1\r\n', 'latin1')), 'http1', 'a leading blank line is skipped');
  // httparse with no header slots validates the first header line, then stops: upstream calls it HTTP/1.
  t.equal(classifyHttp(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n', 'latin1')), 'http1', 'only the first header is checked');
  t.equal(classifyHttp(Buffer.from('GET / HTTP/1.1\nHost: a\n\u0001garbage', 'latin1')), 'http1', 'bare-LF first header, then anything');
  t.equal(classifyHttp(Buffer.from('GET / HTTP/1.1\r\nHost: a\u0001b\r\n', 'latin1')), 'opaque', 'the first header value is checked whole');
});

t.test('a first read shorter than 14 bytes is opaque even if it looks like HTTP', async (t) => {
  const p = await pair(t);
  const d = await detectAfter(p, 'GET / HTTP/1.');
  t.equal(d.kind, 'opaque');
  t.equal(d.buffered.toString('latin1'), 'GET / HTTP/1.');
});

t.test('detection is a single read: later bytes do not change the verdict', async (t) => {
  const p = await pair(t);
  const pending = detectHttp(p.socket, { timeoutMs: 2000 });
  p.client.write('GET /');
  const d = await pending;
  t.equal(d.kind, 'opaque');
  t.equal(d.buffered.toString('latin1'), 'GET /');
});

t.test('at most 1024 bytes are read; the rest stays in the stream', async (t) => {
  const p = await pair(t);
  const big = `GET /${'a'.repeat(3000)} HTTP/1.1\r\n\r\n`;
  const d = await detectAfter(p, big);
  t.equal(d.kind, 'http1');
  t.equal(d.buffered.length, 1024);
  const all = readAll(p.socket);
  p.client.end();
  t.equal((await all).toString('latin1'), big);
});

t.test('a peer that closes without sending is eof', async (t) => {
  const p = await pair(t);
  p.client.end();
  const d = await detectHttp(p.socket, { timeoutMs: 2000 });
  t.equal(d.kind, 'eof');
  t.equal(d.buffered.length, 0);
});

t.test('a silent peer times out', async (t) => {
  const p = await pair(t);
  const started = Date.now();
  const d = await detectHttp(p.socket, { timeoutMs: 100 });
  t.equal(d.kind, 'timeout');
  t.ok(Date.now() - started >= 90);
  t.notOk(p.socket.destroyed, 'the caller decides what happens next');
});

t.test('a FIN that arrived with the bytes is kept behind them', async (t) => {
  const p = await pair(t);
  const req = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
  const d = await detectAfter(p, req, { end: true, prefetch: true });
  t.equal(d.kind, 'http1');
  t.ok(d.peerEnded, 'the EOF had been received');
  t.equal((await readAll(p.socket)).toString('latin1'), req, 'data first, then end');
});

t.test('a destroyed stream reports closed', async (t) => {
  const p = await pair(t);
  p.socket.destroy();
  t.equal((await detectHttp(p.socket, { timeoutMs: 1000 })).kind, 'closed');
});

t.test('inbound reading of a result: timeout is HTTP/1 only on Http1 servers', async (t) => {
  t.equal(inboundDetectDecision('timeout', 'http1'), 'http1');
  t.equal(inboundDetectDecision('timeout', 'detect'), 'opaque');
  t.equal(inboundDetectDecision('h2', 'detect'), 'h2');
  t.equal(inboundDetectDecision('opaque', 'http1'), 'opaque');
  t.equal(inboundDetectDecision('eof', 'detect'), 'close');
});
