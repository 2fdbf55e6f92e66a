// detectTls on real sockets: real clients, plaintext replay, EOF, timeouts, fragmented hellos, full buffer.
import t from 'tap';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../../src/core/clock.js';
import { errnoOf } from '../../../src/core/errors.js';
import { DETECT_BUFFER_CAPACITY, detectTls } from '../../../src/tls/detect.js';
import { TlsDetectClosed, TlsDetectTimeout } from '../../../src/tls/errors.js';
import { acceptOne } from './helpers/listener.js';
import { connectTcp, spawnPeer } from '../../support/openssl.js';

const fixtureDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/client-hello');
const helloFixture = readFileSync(path.join(fixtureDir, 'openssl-sni.bin'));

function readAll(sock: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks)));
    sock.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isCompleteRecord(b: Buffer): boolean {
  return b.length >= 5 && b.length === 5 + b.readUInt16BE(3);
}

t.test('real clients: openssl s_client, curl and node tls.connect are detected with their SNI', async (t) => {
  const clients: Array<{ name: string; sni: string; alpn: string[]; start: (port: number) => void }> = [
    {
      name: 'openssl s_client', sni: 'web.ns1.svc.cluster.local', alpn: [],
      start: (port) => spawnPeer(t, 'openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'web.ns1.svc.cluster.local']),
    },
    {
      name: 'openssl s_client -alpn', sni: 'web.ns1.serviceaccount.identity.linkerd.cluster.local', alpn: ['transport.l5d.io/v1'],
      start: (port) => spawnPeer(t, 'openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3',
        '-servername', 'web.ns1.serviceaccount.identity.linkerd.cluster.local', '-alpn', 'transport.l5d.io/v1']),
    },
    {
      name: 'curl', sni: 'curl.example.com', alpn: ['h2', 'http/1.1'],
      start: (port) => spawnPeer(t, 'curl', ['-k', '-s', '--max-time', '5', '--resolve', `curl.example.com:${port}:127.0.0.1`,
        `https://curl.example.com:${port}/`]),
    },
    {
      name: 'node tls.connect', sni: 'node.example.com', alpn: [],
      start: (port) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'node.example.com', rejectUnauthorized: false });
        s.on('error', () => undefined);
        t.teardown(() => s.destroy());
      },
    },
  ];
  for (const c of clients) {
    const { port, accepted } = await acceptOne(t);
    c.start(port);
    const sock = await accepted;
    const d = await detectTls(sock, { timeoutMs: 5000 });
    t.same(d.result, { kind: 'client-hello', sni: c.sni, alpn: c.alpn }, c.name);
    t.ok(isCompleteRecord(d.buffered), `${c.name}: the whole hello record was read`);
    t.equal(sock.readableLength, d.buffered.length, `${c.name}: and is back in the socket`);
    t.same(sock.read(), d.buffered, `${c.name}: the next reader gets the same bytes`);
    sock.destroy();
  }
});

t.test('openssl s_client -noservername: a ClientHello without SNI', async (t) => {
  const { port, accepted } = await acceptOne(t);
  spawnPeer(t, 'openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-noservername']);
  const sock = await accepted;
  const d = await detectTls(sock, { timeoutMs: 5000 });
  t.same(d.result, { kind: 'client-hello', sni: undefined, alpn: [] });
  sock.destroy();
});

t.test('plaintext HTTP is not TLS and reaches the next reader intact, later bytes and EOF included', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const client = await connectTcp(t, port);
  const request = 'GET /index.html HTTP/1.1\r\nHost: app.example\r\nUser-Agent: detect-test\r\n\r\n';
  client.write(request);
  const sock = await accepted;
  const d = await detectTls(sock, { timeoutMs: 5000 });
  t.same(d.result, { kind: 'not-tls' });
  t.equal(d.buffered.toString(), request.slice(0, d.buffered.length), 'buffered is a prefix of what was sent');
  t.equal(d.peerEnded, false);
  // Forward as an opaque/HTTP handler would: through a pipe to another socket.
  const sink = await acceptOne(t);
  const out = await connectTcp(t, sink.port);
  const far = await sink.accepted;
  far.resume();
  const received = readAll(far);
  sock.pipe(out);
  client.end('POST /more HTTP/1.1\r\nContent-Length: 0\r\n\r\n');
  t.equal((await received).toString(), `${request}POST /more HTTP/1.1\r\nContent-Length: 0\r\n\r\n`);
});

t.test('a peer FIN during detection stays queued behind the replayed bytes', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const client = await connectTcp(t, port);
  const partial = helloFixture.subarray(0, 50);
  client.end(partial);
  const sock = await accepted;
  const d = await detectTls(sock, { timeoutMs: 5000 });
  t.same(d.result, { kind: 'not-tls' }, 'an incomplete hello ended by EOF is "no ClientHello"');
  t.equal(d.peerEnded, true);
  t.same(d.buffered, partial);
  await sleep(20); // give a wrongly scheduled 'end' the chance to fire
  t.equal(sock.readableEnded, false, "'end' has not been emitted");
  t.same(await readAll(sock), partial, 'next reader: the bytes, then EOF');
});

t.test('EOF before any byte', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const client = await connectTcp(t, port);
  client.end();
  const sock = await accepted;
  const d = await detectTls(sock, { timeoutMs: 5000 });
  t.same(d.result, { kind: 'eof' });
  t.equal(d.buffered.length, 0);
  t.equal(d.peerEnded, true);
});

t.test('silence times out with TlsDetectTimeout (it is not treated as opaque)', async (t) => {
  const { port, accepted } = await acceptOne(t);
  await connectTcp(t, port);
  const sock = await accepted;
  const started = performance.now();
  const err = await detectTls(sock, { timeoutMs: 200 }).then(() => undefined, (e: unknown) => e);
  const elapsed = performance.now() - started;
  t.type(err, TlsDetectTimeout);
  t.match(err, { code: 'tls detection timeout', message: 'TLS detection timed out', source: 'downstream' });
  t.ok(elapsed >= 190 && elapsed < 2000, `timed out after ${Math.round(elapsed)}ms`);
});

t.test('half a hello and then silence also times out', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const client = await connectTcp(t, port);
  client.write(helloFixture.subarray(0, 100));
  const sock = await accepted;
  await t.rejects(detectTls(sock, { timeoutMs: 200 }), TlsDetectTimeout);
});

t.test('the timeout runs on the injected clock', async (t) => {
  const timers: Array<{ ms: number; fn: () => void; cancelled: boolean }> = [];
  const clock: Clock = {
    now: () => 0,
    monotonic: () => 0,
    setTimer(ms, fn) {
      const timer = { ms, fn, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
    sleep: () => Promise.resolve(),
  };
  const { port, accepted } = await acceptOne(t);
  await connectTcp(t, port);
  const sock = await accepted;
  const pending = detectTls(sock, { timeoutMs: 10_000, clock });
  t.equal(timers.length, 1);
  t.equal(timers[0]?.ms, 10_000);
  timers[0]?.fn();
  await t.rejects(pending, TlsDetectTimeout);
  // A finished detection cancels its timer.
  const second = await acceptOne(t);
  const c2 = await connectTcp(t, second.port);
  c2.write('hello');
  const d = await detectTls(await second.accepted, { timeoutMs: 10_000, clock });
  t.same(d.result, { kind: 'not-tls' });
  t.equal(timers[1]?.cancelled, true);
});

t.test('a hello written byte by byte over many TCP segments is still detected', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const client = await connectTcp(t, port);
  client.setNoDelay(true);
  let written = 0;
  const writer = (async () => {
    for (const byte of helloFixture) {
      client.write(Buffer.from([byte]));
      written++;
      await sleep(1);
    }
  })();
  const sock = await accepted;
  const d = await detectTls(sock, { timeoutMs: 10_000 });
  t.equal(written, helloFixture.length, 'detection finished only after the last byte');
  t.same(d.result, { kind: 'client-hello', sni: 'web.example.com', alpn: [] });
  t.same(d.buffered, helloFixture);
  await writer;
});

t.test('a record too large for the 8192-byte buffer is "no SNI", and every byte still reaches the next reader', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const client = await connectTcp(t, port);
  const body = Buffer.alloc(8192, 0x41);
  body[0] = 1; // handshake type client_hello
  body[1] = 0;
  body.writeUInt16BE(8188, 2);
  const record = Buffer.concat([Buffer.from([22, 3, 1, 0x20, 0x00]), body, Buffer.from('after')]);
  client.end(record);
  const sock = await accepted;
  const d = await detectTls(sock, { timeoutMs: 5000 });
  t.same(d.result, { kind: 'not-tls' });
  t.equal(d.buffered.length, DETECT_BUFFER_CAPACITY);
  t.same(await readAll(sock), record);
});

t.test('a reset during detection rejects with TlsDetectClosed carrying the errno', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const client = await connectTcp(t, port);
  client.write(helloFixture.subarray(0, 10));
  const sock = await accepted;
  const pending = detectTls(sock, { timeoutMs: 5000 });
  await sleep(20);
  client.resetAndDestroy();
  const err = await pending.then(() => undefined, (e: unknown) => e);
  t.type(err, TlsDetectClosed);
  t.equal(errnoOf(err), 'ECONNRESET');
});

t.test('a destroyed socket rejects at once', async (t) => {
  const { port, accepted } = await acceptOne(t);
  await connectTcp(t, port);
  const sock = await accepted;
  sock.destroy();
  await t.rejects(detectTls(sock, { timeoutMs: 5000 }), TlsDetectClosed);
});
