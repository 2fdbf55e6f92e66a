import t, { type Test } from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { fixedOrigDst, socketAddr, type SocketAddr } from '../../src/transport/index.js';
import { TestPki } from '../support/pki.js';
import { testCredentials, testProxyEnv } from '../support/proxy-env.js';
import { deferredIdentity } from '../support/deferred-identity.js';
import { closeReason, echoServer, httpGet, roundTrip, closedPortOf } from '../support/net.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);

/**
 * A proxy whose original destinations are chosen per test through `routes`. Discovery is off:
 * these tests are about the byte plumbing, and every target is forwarded to its original
 * destination (test/integration/outbound-*.test.ts cover discovery).
 */
async function proxyWith(t: Test, routes: { inbound: () => SocketAddr; outbound: () => SocketAddr }, opts: { allowLoopback?: boolean; env?: Record<string, string> } = {}) {
  const identity = deferredIdentity();
  const { config } = loadConfig(testProxyEnv(ca.certPem, opts.env));
  const proxy = await startProxy(config, {
    identity,
    origDst: { inbound: fixedOrigDst(routes.inbound), outbound: fixedOrigDst(routes.outbound) },
    allowOutboundLoopback: opts.allowLoopback ?? true,
    discovery: false,
  });
  t.teardown(() => proxy.shutdown());
  return { proxy, identity };
}

t.test('nothing is served until the first certificate; /ready flips from 503 to 200', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const target = socketAddr('127.0.0.1', echo.port);
  const { proxy, identity } = await proxyWith(t, { inbound: () => target, outbound: () => target });

  t.same(await httpGet(proxy.adminAddr.port, '/ready'), { status: 503, body: 'not ready\n' });
  t.same(await httpGet(proxy.adminAddr.port, '/live'), { status: 200, body: 'live\n' });

  const early = net.connect(proxy.inboundAddr.port, '127.0.0.1');
  const got: Buffer[] = [];
  early.on('data', (c: Buffer) => got.push(c));
  await once(early, 'connect');
  // Not HTTP-like (a brace is no token character), so HTTP detection forwards it opaquely.
  early.write('{"before":"identity"}');
  await sleep(200);
  t.equal(Buffer.concat(got).length, 0, 'no byte is forwarded before identity');

  identity.install(creds);
  await proxy.ready();
  for (let i = 0; i < 100 && Buffer.concat(got).length < 21; i++) await sleep(20);
  t.equal(Buffer.concat(got).toString(), '{"before":"identity"}', 'the held connection is served once ready');
  early.destroy();
  t.same(await httpGet(proxy.adminAddr.port, '/ready'), { status: 200, body: 'ready\n' });
});

t.test('opaque TCP both ways: bytes, half-close and metrics', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const target = socketAddr('127.0.0.1', echo.port);
  const { proxy, identity } = await proxyWith(t, { inbound: () => target, outbound: () => target });
  identity.install(creds);
  await proxy.ready();

  const payload = Buffer.alloc(3 * 1024 * 1024, 7);
  const viaInbound = await roundTrip(proxy.inboundAddr.port, payload);
  t.ok(viaInbound.equals(payload), 'inbound: 3 MiB echoed intact after the client half-closed');
  // Not an HTTP request line (a brace is no token character), so detection forwards it opaquely.
  const viaOutbound = await roundTrip(proxy.outboundAddrs[0]!.port, '{"hello":"outbound"}');
  t.equal(viaOutbound.toString(), '{"hello":"outbound"}', 'outbound: echoed after half-close');

  await sleep(50);
  const text = await proxy.metrics.render();
  const inboundOpen = new RegExp(`^tcp_open_total\\{direction="inbound",peer="src",target_addr="127.0.0.1:${echo.port}",target_ip="127.0.0.1",target_port="${echo.port}",tls="no_identity",no_tls_reason="no_tls_from_remote",srv_group="",srv_kind="default",srv_name="all-unauthenticated",srv_port="${echo.port}"\\} 1$`, 'm');
  t.match(text, inboundOpen, 'inbound accept counted with the Rust proxy label set');
  t.match(text, /^tcp_open_total\{direction="inbound",peer="dst",tls="no_identity",no_tls_reason="loopback"\} 1$/m, 'inbound connect to the app counted');
  t.match(text, new RegExp(`^tcp_read_bytes_total\\{direction="inbound",peer="src",target_addr="127.0.0.1:${echo.port}".*\\} ${payload.length}$`, 'm'), 'bytes read from the client');
  t.match(text, new RegExp(`^tcp_write_bytes_total\\{direction="inbound",peer="src",target_addr="127.0.0.1:${echo.port}".*\\} ${payload.length}$`, 'm'), 'bytes written to the client');
  t.match(text, new RegExp(`^tcp_open_total\\{direction="outbound",peer="src",target_addr="127.0.0.1:${echo.port}",target_ip="127.0.0.1",target_port="${echo.port}",tls="no_identity",no_tls_reason="loopback"\\} 1$`, 'm'), 'outbound accept counted');
  t.match(text, new RegExp(`^tcp_close_total\\{direction="outbound",peer="dst",target_addr="127.0.0.1:${echo.port}",.*errno=""\\} 1$`, 'm'), 'clean close counted with errno=""');
  t.match(text, /^tcp_open_connections\{direction="inbound",peer="src".*\} 0$/m, 'no connection left open');
});

t.test('outbound never dials loopback; the refusal closes only that connection', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const target = socketAddr('127.0.0.1', echo.port);
  const { proxy, identity } = await proxyWith(t, { inbound: () => target, outbound: () => target }, { allowLoopback: false });
  identity.install(creds);
  await proxy.ready();
  const s = net.connect(proxy.outboundAddrs[0]!.port, '127.0.0.1');
  t.equal(await closeReason(s), 'reset', 'a loopback original destination is refused with a reset');
  const again = await roundTrip(proxy.inboundAddr.port, 'still alive');
  t.equal(again.toString(), 'still alive', 'the proxy keeps serving');
});

t.test('inbound to the proxy port goes to the direct path, never back into itself', async (t) => {
  let inboundPort = 0;
  const { proxy, identity } = await proxyWith(t, {
    inbound: () => socketAddr('127.0.0.1', inboundPort),
    outbound: () => socketAddr('127.0.0.1', 1),
  });
  inboundPort = proxy.inboundAddr.port;
  identity.install(creds);
  await proxy.ready();
  const s = net.connect(inboundPort, '127.0.0.1');
  await once(s, 'connect');
  s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  t.not(await closeReason(s), 'never', 'a plaintext direct connection is closed');
  await sleep(20);
  const text = await proxy.metrics.render();
  t.match(text, /^tcp_open_total\{direction="inbound",peer="dst",[^}]*\} 0$/m, 'nothing was dialled');
});

t.test('a connect failure closes that connection only, after the failfast timeout', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const closed = await closedPortOf();
  const { proxy, identity } = await proxyWith(
    t,
    { inbound: () => socketAddr('127.0.0.1', closed), outbound: () => socketAddr('127.0.0.1', closed) },
    { env: { LINKERD2_PROXY_OUTBOUND_TCP_FAILFAST_TIMEOUT: '300ms' } },
  );
  identity.install(creds);
  await proxy.ready();
  const inbound = net.connect(proxy.inboundAddr.port, '127.0.0.1');
  // Bytes first: inbound detects TLS before it dials the app.
  inbound.on('connect', () => inbound.write('hello'));
  t.equal(await closeReason(inbound), 'reset', 'inbound: app refused ⇒ client reset');
  const started = Date.now();
  const outbound = net.connect(proxy.outboundAddrs[0]!.port, '127.0.0.1');
  // Bytes first here too: outbound detects HTTP (up to OUTBOUND_DETECT_TIMEOUT) before it dials.
  outbound.on('connect', () => outbound.write('hello'));
  t.equal(await closeReason(outbound), 'reset', 'outbound: refused after retries ⇒ client reset');
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 250 && elapsed < 2500, `outbound retried with backoff until the failfast timeout (${elapsed}ms)`);
});

t.test('shutdown stops accepting and lets open connections finish', async (t) => {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const target = socketAddr('127.0.0.1', echo.port);
  const { proxy, identity } = await proxyWith(t, { inbound: () => target, outbound: () => target });
  identity.install(creds);
  await proxy.ready();
  const open = net.connect({ port: proxy.inboundAddr.port, host: '127.0.0.1', allowHalfOpen: true });
  const got: Buffer[] = [];
  open.on('data', (c: Buffer) => got.push(c));
  await once(open, 'connect');
  open.write('one ');
  await sleep(50);
  const shutdown = proxy.shutdown('test');
  await sleep(50);
  const refused = net.connect(proxy.inboundAddr.port, '127.0.0.1');
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  t.equal(err.code, 'ECONNREFUSED', 'new connections are refused while draining');
  open.end('two');
  await once(open, 'end');
  t.equal(Buffer.concat(got).toString(), 'one two', 'the open connection completed');
  await shutdown;
  t.pass('shutdown completed once the connection closed');
});
