import net from 'node:net';
import t, { type Test } from 'tap';
import { Http1Pool, type UpstreamTarget } from '../../../../src/http/h1/pool.js';
import { ManualClock } from './helpers/manual-clock.js';

interface Server {
  target: UpstreamTarget;
  /** Server-side sockets, in accept order. */
  accepted: net.Socket[];
  /** Resolves when the nth accepted socket (0-based) closes. */
  closed(n: number): Promise<void>;
}

async function server(t: Test, key = 'k'): Promise<Server> {
  const accepted: net.Socket[] = [];
  const srv = net.createServer((s) => {
    accepted.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  t.teardown(() => {
    for (const s of [...accepted, ...clients]) s.destroy();
    srv.close();
  });
  const target: UpstreamTarget = {
    key,
    connect: () =>
      new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        clients.push(s);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
  };
  const closed = async (n: number): Promise<void> => {
    while (accepted.length <= n) await new Promise((r) => setTimeout(r, 5));
    const s = accepted[n]!;
    if (s.closed) return;
    await new Promise((r) => s.once('close', r));
  };
  return { target, accepted, closed };
}

t.test('released connections are reused LIFO and counted', async (t) => {
  const { target } = await server(t);
  const pool = new Http1Pool({ clock: new ManualClock() });
  t.teardown(() => pool.close());
  const pending = pool.connect(target);
  t.same(pool.stats('k'), { idle: 0, active: 0, pending: 1 });
  const a = await pending;
  const b = await pool.connect(target);
  t.same(pool.stats('k'), { idle: 0, active: 2, pending: 0 });
  pool.release(a, true);
  pool.release(b, true);
  t.same(pool.stats(), { idle: 2, active: 0, pending: 0 });
  const first = pool.take('k');
  t.equal(first, b, 'the most recently released comes back first');
  t.equal(first?.reused, true);
  t.equal(pool.take('k'), a);
  t.equal(pool.take('k'), undefined);
  t.equal(pool.take('other'), undefined, 'keys never share');
  pool.release(a, false);
  t.equal(a.socket.destroyed, true, 'not reusable ⇒ closed');
  t.same(pool.stats('k'), { idle: 0, active: 1, pending: 0 });
});

t.test('idle timeout closes idle connections (unref timer sweep)', async (t) => {
  const srv = await server(t);
  const clock = new ManualClock();
  const pool = new Http1Pool({ clock, idleTimeoutMs: 3000 });
  t.teardown(() => pool.close());
  const a = await pool.connect(srv.target);
  pool.release(a, true);
  clock.advance(1000);
  const b = await pool.connect(srv.target);
  pool.release(b, true);
  t.equal(clock.armed, 1, 'one sweep timer');
  clock.advance(2000);
  t.equal(a.socket.destroyed, true, 'the older one expired');
  t.equal(b.socket.destroyed, false);
  t.equal(pool.stats('k').idle, 1);
  await srv.closed(0);
  clock.advance(1000);
  t.equal(b.socket.destroyed, true);
  t.same(pool.stats(), { idle: 0, active: 0, pending: 0 });
  t.equal(clock.armed, 0, 'no timer while nothing is idle');
  await srv.closed(1);
});

t.test('an expired connection is not handed out even before the sweep runs', async (t) => {
  const srv = await server(t);
  const clock = new ManualClock();
  const pool = new Http1Pool({ clock, idleTimeoutMs: 100 });
  t.teardown(() => pool.close());
  const a = await pool.connect(srv.target);
  pool.release(a, true);
  // Time moves without the timer firing (a busy event loop).
  clock.jump(500);
  t.equal(pool.take('k'), undefined);
  t.equal(a.socket.destroyed, true);
});

t.test('max idle per key', async (t) => {
  const srv = await server(t);
  const pool = new Http1Pool({ clock: new ManualClock(), maxIdlePerKey: 1 });
  t.teardown(() => pool.close());
  const a = await pool.connect(srv.target);
  const b = await pool.connect(srv.target);
  pool.release(a, true);
  pool.release(b, true);
  t.equal(b.socket.destroyed, true, 'over the limit ⇒ closed');
  t.equal(pool.stats('k').idle, 1);
});

t.test('a peer that closes or talks while idle is evicted', async (t) => {
  const srv = await server(t);
  const pool = new Http1Pool({ clock: new ManualClock() });
  t.teardown(() => pool.close());
  const a = await pool.connect(srv.target);
  const b = await pool.connect(srv.target);
  pool.release(a, true);
  pool.release(b, true);
  srv.accepted[0]!.end();
  srv.accepted[1]!.write('unsolicited');
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (a.socket.destroyed && b.socket.destroyed) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
  t.same(pool.stats('k'), { idle: 0, active: 0, pending: 0 });
  t.equal(pool.take('k'), undefined);
});

t.test('a failed connect is counted down and rejected', async (t) => {
  const pool = new Http1Pool({ clock: new ManualClock() });
  const err = new Error('refused');
  await t.rejects(pool.connect({ key: 'x', connect: () => Promise.reject(err) }), err);
  t.same(pool.stats(), { idle: 0, active: 0, pending: 0 });
});

t.test('forget() hands a connection over without closing it; close() empties the pool', async (t) => {
  const srv = await server(t);
  const pool = new Http1Pool({ clock: new ManualClock() });
  const a = await pool.connect(srv.target);
  const b = await pool.connect(srv.target);
  pool.forget(a);
  t.equal(a.socket.destroyed, false);
  pool.release(b, true);
  pool.close();
  t.equal(b.socket.destroyed, true);
  t.same(pool.stats(), { idle: 0, active: 0, pending: 0 });
  a.socket.destroy();
});
