// An endpoint's shared HTTP/2 connection that cannot be established yet (spec §5.8, §5.4): the
// proxy reconnects with the connect backoff while requests wait, so a peer that starts listening
// a little late answers them; one that never does fails them fast (504) after the failfast timeout.
// An endpoint that cannot connect leaves its balancer's rotation while the proxy keeps reconnecting
// in the background, so requests go to the healthy endpoints; it comes back once it connects.
import http2 from 'node:http2';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { meshedProxy, type MeshedProxy } from '../support/meshed-proxy.js';
import { closedPortOf } from '../support/net.js';
import { SERVICE_PATH, addUpdate, balancerBackend, removeUpdate, servicePolicy, weightedAddr } from '../support/outbound-wire.js';
import { CLUSTER_IP, CLUSTER_KEY, testPki } from './outbound-http-helpers.js';

/** The upstream HTTP/2 failfast default (OUTBOUND_HTTP_FAILFAST_TIMEOUT, the policy queue's 3s). */
const FAILFAST_MS = 3000;

async function mesh(t: Test, port: number): Promise<MeshedProxy> {
  const { ca, creds } = testPki(t);
  const m = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  m.policy.outbound(CLUSTER_KEY).publish(servicePolicy([balancerBackend()]));
  // The h2 hint: HTTP/1 requests go over the endpoint's shared HTTP/2 connection (l5d-orig-proto).
  publishH2(m, port);
  return m;
}

function publishH2(m: MeshedProxy, ...ports: number[]): void {
  m.dst.getSender(SERVICE_PATH).publish(addUpdate(ports.map((port) => weightedAddr('127.0.0.1', port, { h2: true }))));
}

/** One more endpoint on the open Destination.Get stream. */
function addH2(m: MeshedProxy, port: number): void {
  m.dst.getSender(SERVICE_PATH).push(addUpdate([weightedAddr('127.0.0.1', port, { h2: true })]));
}

interface H2Server {
  /** HTTP/2 connections accepted so far. */
  sessions: number;
  /** Streams answered so far. */
  streams: number;
  /** Closes the port and every connection. */
  stop(): void;
}

/** An HTTP/2 server on `port` answering every stream with its protocol view (and `tag`, if given). */
async function h2Server(t: Test, port: number, tag?: string): Promise<H2Server> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  const stop = (): void => {
    for (const s of sessions) s.destroy();
    server.close();
  };
  const seen: H2Server = { sessions: 0, streams: 0, stop };
  server.on('session', (s) => {
    seen.sessions++;
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    seen.streams++;
    stream.respond({ ':status': 200 });
    stream.end(`up ${String(headers['l5d-orig-proto'] ?? 'h2')}${tag === undefined ? '' : ` ${tag}`}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  t.teardown(stop);
  return seen;
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly proxyError: string | undefined;
  readonly ms: number;
}

async function viaHttp1(t: Test, port: number, signal?: AbortSignal): Promise<Answer> {
  const agent = new Agent({ keepAliveTimeout: 1000 });
  t.teardown(() => agent.close());
  const start = Date.now();
  const res = await request(`http://127.0.0.1:${port}/one`, { dispatcher: agent, headers: { host: 'echo.test.svc.cluster.local' }, ...(signal !== undefined && { signal }) });
  const body = await res.body.text();
  const e = res.headers['l5d-proxy-error'];
  return { status: res.statusCode, body, proxyError: Array.isArray(e) ? e[0] : e, ms: Date.now() - start };
}

function viaHttp2(t: Test, port: number): Promise<Answer> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/two', ':authority': 'echo.test.svc.cluster.local' });
    let status = 0;
    let proxyError: string | undefined;
    let body = '';
    req.on('response', (h) => {
      status = h[':status'] ?? 0;
      const e = h['l5d-proxy-error'];
      proxyError = Array.isArray(e) ? e[0] : e;
    });
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('error', reject);
    req.on('close', () => resolve({ status, body, proxyError, ms: Date.now() - start }));
    req.end();
  });
}

t.test('a peer that starts listening 500 ms late: HTTP/1 (orig-proto) and HTTP/2 requests wait and succeed, no 502', async (t) => {
  const port = await closedPortOf();
  const m = await mesh(t, port);
  const h1 = viaHttp1(t, m.outboundPort);
  const h2 = viaHttp2(t, m.outboundPort);
  await new Promise((r) => setTimeout(r, 500));
  await h2Server(t, port);
  const [a, b] = await Promise.all([h1, h2]);
  t.equal(a.status, 200, `HTTP/1 request answered (${a.proxyError ?? ''})`);
  t.equal(a.body, 'up HTTP/1.1', 'it went over the HTTP/2 connection, upgraded with l5d-orig-proto');
  t.equal(b.status, 200, `HTTP/2 request answered (${b.proxyError ?? ''})`);
  t.equal(b.body, 'up h2');
  t.ok(a.ms >= 450 && b.ms >= 450, `both waited for the connection (${a.ms} ms, ${b.ms} ms)`);
  // The connection now up, a further request goes at once.
  const c = await viaHttp1(t, m.outboundPort);
  t.equal(c.status, 200);
});

t.test('a peer that never listens: 504 after the failfast timeout, with the connect error', async (t) => {
  const port = await closedPortOf();
  const m = await mesh(t, port);
  const [a, b] = await Promise.all([viaHttp1(t, m.outboundPort), viaHttp2(t, m.outboundPort)]);
  for (const [name, r] of [['HTTP/1', a], ['HTTP/2', b]] as const) {
    t.equal(r.status, 504, `${name}: 504`);
    t.ok(r.ms >= FAILFAST_MS - 200 && r.ms < FAILFAST_MS + 2000, `${name}: after the failfast timeout (${r.ms} ms)`);
    t.match(r.proxyError ?? '', /service in fail-fast/, `${name}: l5d-proxy-error says fail-fast (${r.proxyError ?? ''})`);
    t.match(r.proxyError ?? '', /ECONNREFUSED|refused/i, `${name}: and why`);
  }
});

async function until(what: string, ok: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('a dead endpoint among healthy ones leaves the rotation; it gets traffic again once it listens', async (t) => {
  const dead = await closedPortOf();
  const m = await mesh(t, dead);
  // One request meets the dead endpoint first (its connectivity is unknown until a connect
  // fails); the client gives up on it, the proxy keeps reconnecting in the background.
  const warmStart = Date.now();
  await t.rejects(viaHttp1(t, m.outboundPort, AbortSignal.timeout(300)), 'the first request waits on the dead endpoint');
  const healthyPort = await closedPortOf();
  const healthy = await h2Server(t, healthyPort, 'healthy');
  addH2(m, healthyPort);

  const start = Date.now();
  const answers: Answer[] = [];
  for (let i = 0; i < 20; i++) answers.push(await viaHttp1(t, m.outboundPort));
  const total = Date.now() - start;
  t.same(
    answers.map((a) => `${a.status} ${a.body}`),
    answers.map(() => '200 up HTTP/1.1 healthy'),
    'every request goes to the healthy endpoint',
  );
  t.ok(total < 3000, `20 requests in ${total} ms, none waited for the dead endpoint`);
  t.equal(healthy.streams, 20);

  // The port opens once the first request's wait has surely ended (failfast): the background
  // reconnect finds it without any request waiting.
  await new Promise((r) => setTimeout(r, Math.max(0, warmStart + FAILFAST_MS + 300 - Date.now())));
  const revived = await h2Server(t, dead, 'revived');
  await until('the proxy reconnects to the revived endpoint', () => revived.sessions > 0, 8000);
  t.equal(revived.streams, 0, 'no request was waiting for it');
  // With the healthy endpoint gone, requests go to the revived one at once (it is ready, not queued).
  m.dst.getSender(SERVICE_PATH).publish(removeUpdate('127.0.0.1', healthyPort));
  await new Promise((r) => setTimeout(r, 50));
  const a = await viaHttp1(t, m.outboundPort);
  t.equal(a.status, 200, `answered (${a.proxyError ?? ''})`);
  t.equal(a.body, 'up HTTP/1.1 revived');
  t.ok(a.ms < 1000, `at once (${a.ms} ms)`);
});

t.test('HTTP/2 requests also avoid the dead endpoint', async (t) => {
  const dead = await closedPortOf();
  const m = await mesh(t, dead);
  await t.rejects(
    Promise.race([viaHttp2(t, m.outboundPort), new Promise((_, reject) => setTimeout(() => reject(new Error('gave up')), 300))]),
    'the first request waits on the dead endpoint',
  );
  const healthyPort = await closedPortOf();
  await h2Server(t, healthyPort, 'healthy');
  addH2(m, healthyPort);
  const start = Date.now();
  for (let i = 0; i < 10; i++) {
    const b = await viaHttp2(t, m.outboundPort);
    t.equal(`${b.status} ${b.body}`, '200 up h2 healthy', `request ${i} (${b.proxyError ?? ''})`);
  }
  const total = Date.now() - start;
  t.ok(total < 3000, `10 requests in ${total} ms`);
});

t.test('an endpoint whose server goes away leaves the rotation without failing a request', async (t) => {
  const goingPort = await closedPortOf();
  const stayingPort = await closedPortOf();
  const m = await mesh(t, goingPort);
  publishH2(m, goingPort, stayingPort);
  const going = await h2Server(t, goingPort, 'going');
  const staying = await h2Server(t, stayingPort, 'staying');
  // Concurrent requests spread over both endpoints (P2C counts requests in flight).
  for (let i = 0; i < 5 && (going.streams === 0 || staying.streams === 0); i++) {
    await Promise.all(Array.from({ length: 10 }, () => viaHttp1(t, m.outboundPort)));
  }
  t.ok(going.streams > 0 && staying.streams > 0, `both endpoints served (${going.streams}, ${staying.streams}; sessions ${going.sessions}, ${staying.sessions})`);
  going.stop();
  await new Promise((r) => setTimeout(r, 300));
  const start = Date.now();
  const answers: Answer[] = [];
  for (let i = 0; i < 20; i++) answers.push(await viaHttp1(t, m.outboundPort));
  const total = Date.now() - start;
  t.same(
    answers.map((a) => `${a.status} ${a.body}`),
    answers.map(() => '200 up HTTP/1.1 staying'),
    'every request goes to the endpoint still up',
  );
  t.ok(total < 3000, `20 requests in ${total} ms`);
});
