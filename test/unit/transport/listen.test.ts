import net from 'node:net';
import t from 'tap';
import { socketAddr } from '../../../src/transport/addr.js';
import { ListenError, boundAddr, listenTcp } from '../../../src/transport/listen.js';
import { SOL_SOCKET, getsockoptInt, nativeSockoptAvailable } from '../../../src/transport/native-sockopt.js';

const SO_REUSEADDR = 2;

t.test('listens on port 0 and reports the bound address', async (t) => {
  const server = await listenTcp(socketAddr('127.0.0.1', 0), { backlog: 16 });
  t.teardown(() => server.close());
  const a = boundAddr(server);
  t.equal(a.host, '127.0.0.1');
  t.equal(a.family, 4);
  t.ok(a.port > 0);
});

t.test('IPv6 listeners report family 6', async (t) => {
  const server = await listenTcp(socketAddr('::1', 0));
  t.teardown(() => server.close());
  t.same(boundAddr(server), { host: '::1', port: boundAddr(server).port, family: 6 });
});

t.test('EADDRINUSE names the address', async (t) => {
  const first = await listenTcp(socketAddr('127.0.0.1', 0));
  t.teardown(() => first.close());
  const addr = boundAddr(first);
  const err = (await listenTcp(addr).then(
    () => t.fail('second bind succeeded'),
    (e: unknown) => e,
  )) as ListenError;
  t.type(err, ListenError);
  t.equal(err.code, 'EADDRINUSE');
  t.equal(err.message, `cannot listen on 127.0.0.1:${addr.port}: address already in use`);
  t.same(err.addr, addr);
});

t.test('EADDRNOTAVAIL for an address not on this host', async (t) => {
  const err = (await listenTcp(socketAddr('192.0.2.123', 0)).then(
    (s) => s.close(),
    (e: unknown) => e,
  )) as ListenError;
  t.type(err, ListenError);
  t.equal(err.code, 'EADDRNOTAVAIL');
  t.match(err.message, /^cannot listen on 192\.0\.2\.123:0: /);
});

t.test('accepted sockets are paused and half-open until the caller resumes them', async (t) => {
  const server = await listenTcp(socketAddr('127.0.0.1', 0));
  t.teardown(() => server.close());
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(boundAddr(server).port, '127.0.0.1');
  t.teardown(() => client.destroy());
  client.write('hello');
  const s = await accepted;
  t.teardown(() => s.destroy());
  t.equal(s.allowHalfOpen, true);
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(chunks.length, 0, 'nothing read while paused');
  t.equal(s.bytesRead, 0);
  s.resume();
  await new Promise((resolve) => s.once('data', resolve));
  t.equal(Buffer.concat(chunks).toString(), 'hello');
});

t.test('listening sockets have SO_REUSEADDR (set by libuv)', { skip: !nativeSockoptAvailable() && 'koffi/libc unavailable' }, async (t) => {
  const server = await listenTcp(socketAddr('127.0.0.1', 0));
  t.teardown(() => server.close());
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  t.equal(getsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR), 1);
});
