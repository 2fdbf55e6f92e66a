// H2Endpoint's connectivity signal to the balancer: an endpoint that cannot connect leaves the
// ready set while the connection is retried in the background, and returns once it connects.
import http2 from 'node:http2';
import t, { type Test } from 'tap';
import { EndpointSet } from '../../../../src/balance/index.js';
import { systemClock } from '../../../../src/core/clock.js';
import type { DestinationEndpoint } from '../../../../src/discovery/destination-types.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { H2Endpoint } from '../../../../src/outbound/http/h2-session.js';
import { closedPortOf } from '../../../support/net.js';
import { TcpConnector, endpoint } from './helpers.js';

function h2Endpoint(t: Test, ep: DestinationEndpoint, connector: TcpConnector, idle: H2Endpoint[]): H2Endpoint {
  const h = new H2Endpoint(`h2\u0000${ep.key}`, ep, {
    connector,
    clock: systemClock,
    log: silentLogger,
    idleTimeoutMs: 60_000,
    initialStreamWindowSize: 65535,
    initialConnectionWindowSize: 65535,
    onConnected: () => undefined,
    onIdle: (e) => idle.push(e),
    backoff: { minMs: 20, maxMs: 40, jitter: 0 },
    connectWaitMs: 100,
  });
  // The manager's timers are unref'd: keep the event loop alive while the test waits on them.
  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => {
    clearInterval(keepAlive);
    h.close();
  });
  return h;
}

async function listen(t: Test, port: number): Promise<void> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });
}

async function until(what: string, ok: () => boolean, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function setOf(ep: DestinationEndpoint): EndpointSet<DestinationEndpoint> {
  const set = new EndpointSet<DestinationEndpoint>({ clock: systemClock });
  set.add([{ addr: ep.key, metadata: ep }]);
  return set;
}

t.test('a failed connect takes the watching endpoint out of rotation; the background reconnect brings it back', async (t) => {
  const port = await closedPortOf();
  const ep = endpoint(port);
  const connector = new TcpConnector(t);
  const h = h2Endpoint(t, ep, connector, []);
  const set = setOf(ep);
  const bal = set.get(ep.key)!;
  h.watch(bal);
  h.watch(bal);
  t.equal(set.readyCount, 1, 'ready until a connect fails');
  await t.rejects(h.acquire(), /fail-fast/, 'a waiting request still gives up at its wait limit');
  t.equal(bal.ready, false, 'not connected');
  t.equal(set.readyCount, 0, 'out of the ready set');
  t.ok(h.isDown);
  const attempts = connector.count('http2');
  await new Promise((r) => setTimeout(r, 150));
  t.ok(connector.count('http2') > attempts, `still reconnecting with nobody waiting (${attempts} → ${connector.count('http2')})`);
  await listen(t, port);
  await until('back in rotation', () => bal.ready);
  t.equal(set.readyCount, 1);
  t.equal(h.isDown, false);
  t.ok(h.current() !== undefined, 'the session is up');
  const later = connector.count('http2');
  await new Promise((r) => setTimeout(r, 100));
  t.equal(connector.count('http2'), later, 'no further connects once up');
});

t.test('an endpoint that joins the watch while the connection is down is marked at once', async (t) => {
  const port = await closedPortOf();
  const ep = endpoint(port);
  const h = h2Endpoint(t, ep, new TcpConnector(t), []);
  const set = setOf(ep);
  h.watch(set.get(ep.key)!);
  await t.rejects(h.acquire());
  const other = setOf(ep).get(ep.key)!;
  t.equal(other.ready, true);
  h.watch(other);
  t.equal(other.ready, false, 'a second balancer endpoint for the address follows too');
});

t.test('removal from discovery ends the watch: reconnecting stops and the endpoint is forgotten', async (t) => {
  const port = await closedPortOf();
  const ep = endpoint(port);
  const connector = new TcpConnector(t);
  const idle: H2Endpoint[] = [];
  const h = h2Endpoint(t, ep, connector, idle);
  const set = setOf(ep);
  h.watch(set.get(ep.key)!);
  await t.rejects(h.acquire());
  set.remove([ep.key]);
  await until('forgotten', () => idle.length === 1, 1000);
  t.equal(idle[0], h);
  const n = connector.count('http2');
  await new Promise((r) => setTimeout(r, 120));
  t.equal(connector.count('http2'), n, 'no more connects');
});

t.test('close ends the watch: the endpoint is released (connected again) and reconnecting stops', async (t) => {
  const port = await closedPortOf();
  const ep = endpoint(port);
  const connector = new TcpConnector(t);
  const h = h2Endpoint(t, ep, connector, []);
  const set = setOf(ep);
  const bal = set.get(ep.key)!;
  h.watch(bal);
  await t.rejects(h.acquire());
  t.equal(bal.ready, false);
  h.close();
  t.equal(bal.ready, true, 'no longer held out of rotation by a closed connection manager');
  await new Promise((r) => setTimeout(r, 80));
  const n = connector.count('http2');
  await new Promise((r) => setTimeout(r, 120));
  t.equal(connector.count('http2'), n, 'no more connects');
  h.watch(bal);
  await t.rejects(h.acquire(), /closed/);
  t.equal(bal.ready, true, 'a closed manager watches nothing');
});
