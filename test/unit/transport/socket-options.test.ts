import net from 'node:net';
import t, { type Test } from 'tap';
import { socketAddr } from '../../../src/transport/addr.js';
import { connectTcp } from '../../../src/transport/connect.js';
import {
  IPPROTO_TCP,
  SOL_SOCKET,
  SO_KEEPALIVE,
  TCP_KEEPIDLE,
  TCP_NODELAY,
  TCP_USER_TIMEOUT,
  getsockoptInt,
  nativeSockoptAvailable,
  socketFd,
} from '../../../src/transport/native-sockopt.js';
import {
  applyAcceptOptions,
  applyConnectOptions,
  keepaliveDelayMs,
  setUserTimeout,
} from '../../../src/transport/socket-options.js';
import type { Logger } from '../../../src/log/logger.js';
import { silentLogger } from '../../../src/log/logger.js';

const skip = nativeSockoptAvailable() ? false : 'koffi/libc unavailable (not Linux?)';

interface Opts {
  nodelay: number;
  keepalive: number;
  keepidle: number;
  userTimeout: number;
}

function readBack(s: net.Socket): Opts {
  const fd = socketFd(s);
  return {
    nodelay: getsockoptInt(fd, IPPROTO_TCP, TCP_NODELAY) === 0 ? 0 : 1,
    keepalive: getsockoptInt(fd, SOL_SOCKET, SO_KEEPALIVE) === 0 ? 0 : 1,
    keepidle: getsockoptInt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
    userTimeout: getsockoptInt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT),
  };
}

async function server(t: Test): Promise<{ port: number; accepted: Promise<net.Socket> }> {
  const srv = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => srv.once('connection', resolve));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.teardown(() => srv.close());
  void accepted.then((s) => t.teardown(() => s.destroy()));
  return { port: (srv.address() as net.AddressInfo).port, accepted };
}

t.test('keepaliveDelayMs rounds to whole seconds, at least one', async (t) => {
  t.equal(keepaliveDelayMs(10_000), 10_000);
  t.equal(keepaliveDelayMs(300), 1000);
  t.equal(keepaliveDelayMs(1500), 2000);
  t.equal(keepaliveDelayMs(0), 1000);
});

t.test('accept options are visible to getsockopt', { skip }, async (t) => {
  const { port, accepted } = await server(t);
  const client = net.connect(port, '127.0.0.1');
  t.teardown(() => client.destroy());
  const s = await accepted;
  const before = readBack(s);
  t.equal(before.keepalive, 0, 'keepalive off by default');
  t.equal(before.userTimeout, 0, 'user timeout at the kernel default');

  applyAcceptOptions(s, { keepaliveMs: 10_000, userTimeoutMs: 30_000 });
  t.same(readBack(s), { nodelay: 1, keepalive: 1, keepidle: 10, userTimeout: 30_000 });
});

t.test('accept options without keepalive or user timeout still set NODELAY only', { skip }, async (t) => {
  const { port, accepted } = await server(t);
  const client = net.connect(port, '127.0.0.1');
  t.teardown(() => client.destroy());
  const s = await accepted;
  applyAcceptOptions(s, {});
  const r = readBack(s);
  t.equal(r.nodelay, 1);
  t.equal(r.keepalive, 0);
  t.equal(r.userTimeout, 0);
});

t.test('connectTcp applies connect options', { skip }, async (t) => {
  const { port } = await server(t);
  const s = await connectTcp(socketAddr('127.0.0.1', port), { timeoutMs: 1000, keepaliveMs: 20_000, userTimeoutMs: 5000 });
  t.teardown(() => s.destroy());
  t.same(readBack(s), { nodelay: 1, keepalive: 1, keepidle: 20, userTimeout: 5000 });

  const plain = await connectTcp(socketAddr('127.0.0.1', port), { timeoutMs: 1000 });
  t.teardown(() => plain.destroy());
  t.same(readBack(plain), { nodelay: 1, keepalive: 0, keepidle: readBack(plain).keepidle, userTimeout: 0 });
});

t.test('setUserTimeout reports true and fails loudly on a closed socket', { skip }, async (t) => {
  const { port, accepted } = await server(t);
  const client = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  t.equal(setUserTimeout(client, 1234), true);
  t.equal(readBack(client).userTimeout, 1234);
  client.destroy();
  await accepted;
  t.throws(() => setUserTimeout(client, 1000), { code: 'no-fd' });
});

t.test('applyConnectOptions warns (not throws) when the user timeout cannot be set', { skip }, async (t) => {
  const { port } = await server(t);
  const client = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  // Swap the handle's fd for a closed one to make setsockopt fail inside a live socket.
  const handle = (client as unknown as { _handle: object })._handle;
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
  const own = Object.getOwnPropertyDescriptor(handle, 'fd');
  Object.defineProperty(handle, 'fd', { value: 1_000_000, configurable: true });
  t.doesNotThrow(() => applyConnectOptions(client, { userTimeoutMs: 1000 }, log));
  if (own === undefined) delete (handle as { fd?: number }).fd;
  else Object.defineProperty(handle, 'fd', own);
  t.same(warnings, ['failed to set TCP_USER_TIMEOUT']);
  client.destroy();
});
