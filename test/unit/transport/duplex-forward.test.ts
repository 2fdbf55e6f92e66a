import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import t, { type Test } from 'tap';
import { socketAddr } from '../../../src/transport/addr.js';
import { connectTcp } from '../../../src/transport/connect.js';
import { forwardDuplex, type ForwardResult } from '../../../src/transport/duplex-forward.js';
import { boundAddr, listenTcp } from '../../../src/transport/listen.js';

interface Harness {
  client: net.Socket;
  /** The proxy's accepted (a) and connected (b) sockets. */
  sockets: Promise<{ a: net.Socket; b: net.Socket }>;
  result: Promise<ForwardResult>;
}

/** client → proxy(listenTcp + connectTcp + forwardDuplex) → server(handler), all on loopback. */
async function harness(t: Test, handler: (s: net.Socket) => void): Promise<Harness> {
  const live = new Set<net.Socket>();
  const track = (s: net.Socket): net.Socket => (live.add(s), s);
  const upstream = net.createServer({ allowHalfOpen: true }, (s) => handler(track(s)));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const proxy = await listenTcp(socketAddr('127.0.0.1', 0));
  t.teardown(() => {
    for (const s of live) s.destroy();
    upstream.close();
    proxy.close();
  });
  const upstreamAddr = socketAddr('127.0.0.1', (upstream.address() as net.AddressInfo).port);
  const sockets = new Promise<{ a: net.Socket; b: net.Socket }>((resolve, reject) => {
    proxy.once('connection', (a: net.Socket) => {
      track(a);
      connectTcp(upstreamAddr, { timeoutMs: 1000 }).then((b) => resolve({ a, b: track(b) }), reject);
    });
  });
  const result = sockets.then(({ a, b }) => forwardDuplex(a, b));
  const client = track(net.connect({ port: boundAddr(proxy).port, host: '127.0.0.1', allowHalfOpen: true }));
  return { client, sockets, result };
}

/** Everything a socket delivers until EOF. */
function collect(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

/** Writes buf in 64 KiB slices honouring drain, then ends. */
async function sendAll(s: net.Socket, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; off += 65536) {
    if (!s.write(buf.subarray(off, off + 65536))) {
      await new Promise((resolve) => s.once('drain', resolve));
    }
  }
  s.end();
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const errorOf = (s: net.Socket): Promise<NodeJS.ErrnoException> =>
  new Promise((resolve) => s.once('error', resolve));

t.test('forwards several MB both ways at once', async (t) => {
  const up = randomBytes(4 * 1024 * 1024);
  const down = randomBytes(3 * 1024 * 1024 + 17);
  let serverGot: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
  const h = await harness(t, (s) => {
    serverGot = collect(s);
    void sendAll(s, down);
  });
  const clientGot = collect(h.client);
  await sendAll(h.client, up);
  const [r, got] = await Promise.all([h.result, clientGot]);
  t.equal(sha(got), sha(down), 'client received the server’s bytes intact');
  t.equal(sha(await serverGot), sha(up), 'server received the client’s bytes intact');
  t.same(r, { aToB: up.length, bToA: down.length });
});

t.test('client half-close: the response still flows after the client shuts its write side', async (t) => {
  const h = await harness(t, (s) => {
    void collect(s).then((req) => {
      s.write('response to ');
      s.end(req);
    });
  });
  const got = collect(h.client);
  h.client.end('request');
  t.equal((await got).toString(), 'response to request');
  const r = await h.result;
  t.same(r, { aToB: 7, bToA: 19 });
});

t.test('server half-close: the client can keep sending after the server ended', async (t) => {
  let serverGot: Promise<Buffer> | undefined;
  const h = await harness(t, (s) => {
    serverGot = collect(s);
    s.end('banner');
  });
  t.equal((await collect(h.client)).toString(), 'banner', 'client saw the server’s FIN');
  t.equal(h.client.writable, true, 'client may still write');
  h.client.end('late data');
  t.equal((await serverGot!).toString(), 'late data');
  t.same(await h.result, { aToB: 9, bToA: 6 });
});

t.test('backpressure: a slow reader keeps the proxy’s buffers bounded', async (t) => {
  const total = 48 * 1024 * 1024;
  const data = randomBytes(1024 * 1024);
  let server: net.Socket | undefined;
  const h = await harness(t, (s) => {
    server = s; // not reading yet: libuv stops after one highWaterMark
  });
  const { a, b } = await h.sockets;
  let maxWritable = 0;
  let maxReadable = 0;
  const sample = setInterval(() => {
    maxWritable = Math.max(maxWritable, b.writableLength);
    maxReadable = Math.max(maxReadable, a.readableLength);
  }, 2);
  t.teardown(() => clearInterval(sample));

  let sent = 0;
  const sending = (async () => {
    while (sent < total) {
      sent += data.length;
      if (!h.client.write(data)) await new Promise((resolve) => h.client.once('drain', resolve));
    }
    h.client.end();
  })();

  await new Promise((resolve) => setTimeout(resolve, 600));
  t.ok(sent < total, `the client is held back while the server does not read (${sent} of ${total} queued)`);
  t.ok(a.bytesRead < total / 2, `the proxy stopped reading (${a.bytesRead} bytes read)`);
  const bound = 2 * b.writableHighWaterMark + 2 * 65536;
  t.ok(maxWritable <= bound, `upstream writableLength peaked at ${maxWritable} (bound ${bound})`);
  t.ok(maxReadable <= bound, `downstream readableLength peaked at ${maxReadable} (bound ${bound})`);

  // Now drain slowly-ish: everything must arrive.
  let received = 0;
  server!.on('data', (c: Buffer) => (received += c.length));
  await new Promise((resolve) => server!.once('end', resolve));
  await sending;
  t.equal(received, total);
  server!.end();
  const r = await h.result;
  t.equal(r.aToB, total);
  t.equal(r.error, undefined);
  t.ok(maxWritable <= bound, `after draining, upstream writableLength peak ${maxWritable}`);
});

t.test('a server reset reaches the client as a reset', async (t) => {
  const h = await harness(t, (s) => {
    s.once('data', () => s.resetAndDestroy());
  });
  const clientErr = errorOf(h.client);
  h.client.write('hello');
  t.equal((await clientErr).code, 'ECONNRESET', 'client sees ECONNRESET');
  const r = await h.result;
  t.equal(r.errno, 'ECONNRESET');
  t.equal(r.errorSide, 'b');
  t.equal(r.aToB, 5);
});

t.test('a client reset reaches the server as a reset', async (t) => {
  let serverErr: Promise<NodeJS.ErrnoException> | undefined;
  let dataSeen: () => void = () => undefined;
  const gotData = new Promise<void>((resolve) => (dataSeen = resolve));
  const h = await harness(t, (s) => {
    serverErr = errorOf(s);
    s.once('data', () => dataSeen());
  });
  h.client.write('hello');
  await gotData;
  h.client.resetAndDestroy();
  t.equal((await serverErr!).code, 'ECONNRESET', 'server sees ECONNRESET');
  const r = await h.result;
  t.equal(r.errno, 'ECONNRESET');
  t.equal(r.errorSide, 'a');
});

t.test('a socket destroyed mid-stream without an error resets the other side', async (t) => {
  let serverErr: Promise<NodeJS.ErrnoException> | undefined;
  const h = await harness(t, (s) => {
    serverErr = errorOf(s);
  });
  const { a } = await h.sockets;
  h.client.write('partial');
  await new Promise((resolve) => setTimeout(resolve, 50));
  a.destroy();
  t.equal((await serverErr!).code, 'ECONNRESET', 'truncation is not disguised as a clean FIN');
  const r = await h.result;
  t.equal(r.error, undefined, 'no socket error was reported');
});

t.test('already-closed sockets settle at once', async (t) => {
  const h = await harness(t, () => undefined);
  const { a, b } = await h.sockets;
  a.destroy();
  b.destroy();
  await Promise.all([new Promise((r) => a.once('close', r)), new Promise((r) => b.once('close', r))]);
  const r = await forwardDuplex(a, b);
  t.equal(r.error, undefined);
  t.equal(r.aToB, 0);
  await h.result;
});
