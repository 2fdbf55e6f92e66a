import net from 'node:net';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { Clock } from '../../../src/core/clock.js';
import { systemClock } from '../../../src/core/clock.js';
import { socketAddr, type SocketAddr } from '../../../src/transport/addr.js';
import { ConnectError, connectTcp, connectWithBackoff } from '../../../src/transport/connect.js';
import { createNetns, netnsUsable, nsMust, spawnTsInNetns } from './fixtures/netns.js';

const probe = fileURLToPath(new URL('./fixtures/netns-probe.ts', import.meta.url));

/** A clock whose timers fire only when the test says so; sleeps are recorded and immediate. */
function manualClock(): Clock & { timers: (() => void)[]; sleeps: number[] } {
  const timers: (() => void)[] = [];
  const sleeps: number[] = [];
  return {
    timers,
    sleeps,
    now: () => 0,
    monotonic: () => 0,
    setTimer(_ms, fn) {
      timers.push(fn);
      return () => {
        const i = timers.indexOf(fn);
        if (i >= 0) timers.splice(i, 1);
      };
    },
    sleep(ms) {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
}

async function listening(t: Test): Promise<{ addr: SocketAddr; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => s.on('error', () => undefined));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { addr: socketAddr('127.0.0.1', (server.address() as net.AddressInfo).port), server };
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<SocketAddr> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return socketAddr('127.0.0.1', port);
}

async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  return p.then(
    (v) => {
      if (v instanceof net.Socket) v.destroy();
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as ConnectError,
  );
}

t.test('connects with half-open allowed and NODELAY', async (t) => {
  const { addr } = await listening(t);
  const s = await connectTcp(addr, { timeoutMs: 1000 });
  t.teardown(() => s.destroy());
  t.equal(s.allowHalfOpen, true);
  t.equal(s.remotePort, addr.port);
  t.equal(s.listenerCount('error'), 0, 'no listeners left behind');
});

t.test('refused ⇒ ConnectError with the errno, naming the address', async (t) => {
  const addr = await closedPort();
  const err = await rejection(connectTcp(addr, { timeoutMs: 1000 }));
  t.type(err, ConnectError);
  t.equal(err.code, 'ECONNREFUSED');
  t.equal(err.source, 'upstream');
  t.equal(err.message, `connect to 127.0.0.1:${addr.port} failed: connection refused (ECONNREFUSED)`);
  t.same(err.addr, addr);
});

t.test('timer firing before the connect completes ⇒ connect-timeout', async (t) => {
  const { addr } = await listening(t);
  const clock = manualClock();
  const p = connectTcp(addr, { timeoutMs: 300, clock });
  t.equal(clock.timers.length, 1, 'one timer armed');
  clock.timers[0]?.();
  const err = await rejection(p);
  t.equal(err.code, 'connect-timeout');
  t.equal(err.message, `connect to 127.0.0.1:${addr.port} failed: timed out after 300ms`);
});

t.test('a successful connect disarms its timer', async (t) => {
  const { addr } = await listening(t);
  const clock = manualClock();
  const s = await connectTcp(addr, { timeoutMs: 300, clock });
  t.teardown(() => s.destroy());
  t.equal(clock.timers.length, 0);
});

t.test('abort signal', async (t) => {
  const { addr } = await listening(t);
  const pre = new AbortController();
  pre.abort();
  t.equal((await rejection(connectTcp(addr, { timeoutMs: 1000, signal: pre.signal }))).code, 'connect-aborted');

  const ac = new AbortController();
  const p = connectTcp(addr, { timeoutMs: 1000, signal: ac.signal });
  ac.abort();
  t.equal((await rejection(p)).code, 'connect-aborted');
});

t.test('connectWithBackoff retries with exponential delays, then gives up', async (t) => {
  const addr = await closedPort();
  const clock = manualClock();
  const retries: number[] = [];
  const err = await rejection(
    connectWithBackoff(addr, {
      timeoutMs: 1000,
      clock,
      attempts: 4,
      backoff: { minMs: 100, maxMs: 250, jitter: 0 },
      onRetry: (_e, attempt) => retries.push(attempt),
    }),
  );
  t.equal(err.code, 'ECONNREFUSED', 'the last attempt’s error');
  t.same(clock.sleeps, [100, 200, 250]);
  t.same(retries, [1, 2, 3]);
});

t.test('connectWithBackoff succeeds once the server appears', async (t) => {
  const addr = await closedPort();
  const server = net.createServer((s) => s.destroy());
  t.teardown(() => server.close());
  const clock: Clock = {
    ...systemClock,
    async sleep() {
      // The server comes up while the connector waits to retry.
      if (!server.listening) await new Promise<void>((resolve) => server.listen(addr.port, addr.host, resolve));
    },
  };
  const s = await connectWithBackoff(addr, { timeoutMs: 1000, clock, attempts: 3, backoff: { minMs: 1, maxMs: 2, jitter: 0 } });
  t.teardown(() => s.destroy());
  t.equal(s.remotePort, addr.port);
});

t.test('connectWithBackoff stops when aborted while waiting', async (t) => {
  const addr = await closedPort();
  const ac = new AbortController();
  const clock = { ...manualClock(), sleep: () => (ac.abort(), Promise.resolve()) };
  const err = await rejection(
    connectWithBackoff(addr, { timeoutMs: 1000, clock, attempts: 5, signal: ac.signal, backoff: { minMs: 1, maxMs: 2, jitter: 0 } }),
  );
  t.equal(err.code, 'connect-aborted');
  t.match(err.message, /after 1 attempts/);
});

t.test('a real connect timeout: SYNs dropped inside a netns', async (t) => {
  const why = await netnsUsable();
  if (why !== undefined) return t.plan(0, `skipped: ${why}`);
  const ns = await createNetns(t);
  await nsMust(ns, 'iptables', ['-A', 'OUTPUT', '-p', 'tcp', '-d', '127.0.0.1', '--dport', '9', '-j', 'DROP']);
  const child = spawnTsInNetns(t, ns, probe, ['connect', '127.0.0.1', '9', '250']);
  const r = (await child.next()) as { code: string; message: string; elapsedMs: number };
  t.equal(r.code, 'connect-timeout', JSON.stringify(r));
  t.equal(r.message, 'connect to 127.0.0.1:9 failed: timed out after 250ms');
  t.ok(r.elapsedMs >= 240 && r.elapsedMs < 2000, `took ${Math.round(r.elapsedMs)}ms`);
});
