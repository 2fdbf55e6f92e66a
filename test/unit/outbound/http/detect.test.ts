// Outbound HTTP detection feeding the HTTP/1 server, and the whole outbound HTTP path through
// the real target (synthesized forward policy) and the real endpoint connector.
import http from 'node:http';
import net from 'node:net';
import t, { type Test } from 'tap';
import { systemClock } from '../../../../src/core/clock.js';
import { createEndpointConnector } from '../../../../src/outbound/endpoint/connector.js';
import { detectOutboundHttp, outboundHttp1, serveOutboundHttp1 } from '../../../../src/outbound/http/index.js';
import type { EndpointConnector, OutboundTarget } from '../../../../src/outbound/context.js';
import { TargetEntry } from '../../../../src/outbound/target/outbound-target.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { socketAddr } from '../../../../src/transport/addr.js';
import { FakeDispatcher, TcpConnector, balancerBackend, endpoint, parseCurl, curl, simpleTarget, testRuntime, type TestRuntime } from './helpers.js';

/** A listener that detects, then serves HTTP/1 with serveOutboundHttp1 or records what else it saw. */
async function detectingProxy(
  t: Test,
  rt: TestRuntime,
  connector: EndpointConnector,
  target: OutboundTarget,
  timeoutMs: number,
): Promise<{ port: number; kinds: string[] }> {
  const kinds: string[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    void detectOutboundHttp(s, { timeoutMs, log: rt.log }).then((d) => {
      kinds.push(d.kind);
      if (d.kind === 'http1') return serveOutboundHttp1(s, target, connector, rt, Buffer.alloc(0));
      s.end(`not served: ${d.kind}`);
      return undefined;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    outboundHttp1(rt, connector).close();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, kinds };
}

async function textOrigin(t: Test): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = http.createServer((req, res) => res.end(`origin ${req.method} ${req.url} host=${req.headers.host}`));
  server.on('connection', (s: net.Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

function rawExchange(port: number, send: string | undefined, endAfter = false): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let text = '';
    c.on('data', (d: Buffer) => (text += d.toString('latin1')));
    c.on('error', () => undefined);
    c.on('close', () => resolve(text));
    c.on('connect', () => {
      if (send !== undefined) c.write(send);
      if (endAfter) c.end();
    });
  });
}

t.test('an HTTP/1 connection is detected and served from the bytes detection put back', async (t) => {
  const originPort = await textOrigin(t);
  const rt = testRuntime();
  const dispatcher = new FakeDispatcher(balancerBackend('web'), [endpoint(originPort)]);
  const proxy = await detectingProxy(t, rt, new TcpConnector(t), simpleTarget(dispatcher), 1000);
  const res = parseCurl((await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/detected`])).stdout);
  t.equal(res.status, 200);
  t.equal(res.body, 'origin GET /detected host=web.test');
  t.same(proxy.kinds, ['http1']);
});

t.test('a request whose client half-closes right after it is still answered', async (t) => {
  const originPort = await textOrigin(t);
  const rt = testRuntime();
  const dispatcher = new FakeDispatcher(balancerBackend('web'), [endpoint(originPort)]);
  const proxy = await detectingProxy(t, rt, new TcpConnector(t), simpleTarget(dispatcher), 1000);
  const text = await rawExchange(proxy.port, 'GET /fin HTTP/1.1\r\nhost: web.test\r\n\r\n', true);
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(text, /origin GET \/fin host=web\.test$/);
});

t.test('silence until the detect timeout is opaque, not an error', async (t) => {
  const rt = testRuntime();
  const proxy = await detectingProxy(t, rt, new TcpConnector(t), simpleTarget(new FakeDispatcher(balancerBackend('web'), [])), 100);
  const c = net.connect(proxy.port, '127.0.0.1');
  t.teardown(() => c.destroy());
  const text = await new Promise<string>((resolve) => {
    let s = '';
    c.on('data', (d: Buffer) => (s += d.toString()));
    c.on('end', () => resolve(s));
  });
  t.equal(text, 'not served: opaque');
  t.ok(rt.log.lines.some((l) => l.message === 'Continuing after timeout'));
});

t.test('non-HTTP bytes, the HTTP/2 preface and an immediate FIN', async (t) => {
  const rt = testRuntime();
  const proxy = await detectingProxy(t, rt, new TcpConnector(t), simpleTarget(new FakeDispatcher(balancerBackend('web'), [])), 1000);
  t.equal(await rawExchange(proxy.port, '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fcxxxxxxxx'), 'not served: opaque');
  t.equal(await rawExchange(proxy.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), 'not served: h2');
  t.equal(await rawExchange(proxy.port, undefined, true), 'not served: eof');
});

t.test('through the real target and connector: a synthesized forward policy to the original destination', async (t) => {
  const originPort = await textOrigin(t);
  const rt = testRuntime();
  const connector = createEndpointConnector(rt, { allowLoopback: true });
  const target = new TargetEntry(socketAddr('127.0.0.1', originPort), {
    policies: undefined,
    destinations: undefined,
    synthesize: { detectTimeoutMs: rt.config.detectTimeoutMs, queue: rt.config.tcpQueue },
    idleTimeoutMs: 60_000,
    onIdle: () => undefined,
    clock: systemClock,
    log: silentLogger,
  });
  t.teardown(() => target.close());
  const proxy = await detectingProxy(t, rt, connector, target, 1000);
  const first = parseCurl((await curl(['-i', '-H', 'Host: web.test', `http://127.0.0.1:${proxy.port}/a`])).stdout);
  t.equal(first.status, 200);
  t.equal(first.body, 'origin GET /a host=web.test');
  // No Host: routed by the original destination, and sent on a one-off connection.
  const second = await rawExchange(proxy.port, 'GET /b HTTP/1.0\r\n\r\n');
  t.match(second, /^HTTP\/1\.0 200 OK\r\n/);
  t.match(second, /origin GET \/b host=undefined$/);
  const metrics = await rt.metrics.render();
  t.match(metrics, new RegExp(`request_total\\{direction="outbound",target_addr="127\\.0\\.0\\.1:${originPort}",target_ip="127\\.0\\.0\\.1",target_port="${originPort}",tls="no_identity",no_tls_reason="not_provided_by_service_discovery"\\} 2`), 'forward targets have no authority label');
});
