import { readFileSync } from 'node:fs';
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
  keepaliveIdleSeconds,
  setUserTimeout,
} from '../../../src/transport/socket-options.js';
import type { Logger } from '../../../src/log/logger.js';
import { silentLogger } from '../../../src/log/logger.js';

const skip = nativeSockoptAvailable() ? false : 'koffi/libc unavailable (not Linux?)';

interface Opts {
  nodelay: number;
  keepalive: number;
  keepidle: number;
  keepintvl: number;
  keepcnt: number;
  userTimeout: number;
}

const kernelKeepaliveTime = (): number => Number(readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8'));

const TCP_KEEPINTVL = 5;
const TCP_KEEPCNT = 6;

function readBack(s: net.Socket): Opts {
  const fd = socketFd(s);
  return {
    nodelay: getsockoptInt(fd, IPPROTO_TCP, TCP_NODELAY) === 0 ? 0 : 1,
    keepalive: getsockoptInt(fd, SOL_SOCKET, SO_KEEPALIVE) === 0 ? 0 : 1,
    keepidle: getsockoptInt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
    keepintvl: getsockoptInt(fd, IPPROTO_TCP, TCP_KEEPINTVL),
    keepcnt: getsockoptInt(fd, IPPROTO_TCP, TCP_KEEPCNT),
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

t.test('keepaliveIdleSeconds truncates like the Rust proxy, but never to 0', async (t) => {
  t.equal(keepaliveIdleSeconds(10_000), 10);
  t.equal(keepaliveIdleSeconds(1500), 1);
  t.equal(keepaliveIdleSeconds(300), 1);
  t.equal(keepaliveIdleSeconds(0), 1);
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
  t.same(
    readBack(s),
    { ...before, nodelay: 1, keepalive: 1, keepidle: 10, userTimeout: 30_000 },
    'probe interval and count keep the kernel defaults, as in the Rust proxy',
  );
});

t.test('without settings: NODELAY, and keepalive on at the kernel’s idle time (as the Rust proxy)', { skip }, async (t) => {
  const { port, accepted } = await server(t);
  const client = net.connect(port, '127.0.0.1');
  t.teardown(() => client.destroy());
  const s = await accepted;
  const before = readBack(s);
  applyAcceptOptions(s, {});
  t.same(readBack(s), { ...before, nodelay: 1, keepalive: 1 });
  t.equal(readBack(s).keepidle, kernelKeepaliveTime());
  t.equal(readBack(s).userTimeout, 0);
});

t.test('connectTcp applies connect options', { skip }, async (t) => {
  const { port } = await server(t);
  const s = await connectTcp(socketAddr('127.0.0.1', port), { timeoutMs: 1000, keepaliveMs: 20_000, userTimeoutMs: 5000 });
  t.teardown(() => s.destroy());
  t.match(readBack(s), { nodelay: 1, keepalive: 1, keepidle: 20, userTimeout: 5000 });

  const plain = await connectTcp(socketAddr('127.0.0.1', port), { timeoutMs: 1000 });
  t.teardown(() => plain.destroy());
  t.match(readBack(plain), { nodelay: 1, keepalive: 1, userTimeout: 0 });
  t.equal(readBack(plain).keepidle, kernelKeepaliveTime(), 'idle time left at the kernel default');
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

t.test('applyConnectOptions warns (not throws) when socket options cannot be set', { skip }, async (t) => {
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
  t.same(warnings, ['failed to set keepalive', 'failed to set TCP_USER_TIMEOUT']);
  client.destroy();
});
