import t, { type Test } from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { fixedOrigDst, socketAddr } from '../../src/transport/index.js';
import type { Credentials } from '../../src/identity/types.js';
import { TestPki } from '../support/pki.js';
import { TEST_SERVER_NAME, testCredentials, testProxyEnv } from '../support/proxy-env.js';
import { deferredIdentity } from '../support/deferred-identity.js';
import { closeReason, echoServer } from '../support/net.js';
import { runSClient } from '../support/openssl.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);
const CLIENT_ID = 'web.default.serviceaccount.identity.linkerd.cluster.local';
const client = pki.leaf(ca, { dns: [CLIENT_ID] });

async function inboundProxy(t: Test, env: Record<string, string> = {}) {
  const echo = await echoServer();
  t.teardown(() => echo.close());
  const identity = deferredIdentity();
  identity.install(creds);
  const { config } = loadConfig(testProxyEnv(ca.certPem, env));
  const target = socketAddr('127.0.0.1', echo.port);
  const proxy = await startProxy(config, { identity, origDst: fixedOrigDst(() => target) });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();
  return { proxy, identity, echo };
}

function meshClient(port: number, opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      servername: TEST_SERVER_NAME,
      ca: ca.certPem,
      cert: client.certPem,
      key: client.keyPem,
      minVersion: 'TLSv1.3',
      checkServerIdentity: () => undefined,
      ...opts,
    });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

async function echoOver(s: net.Socket, text: string): Promise<string> {
  const got: Buffer[] = [];
  const onData = (c: Buffer) => got.push(c);
  s.on('data', onData);
  s.write(text);
  for (let i = 0; i < 50 && Buffer.concat(got).length < text.length; i++) await sleep(10);
  s.off('data', onData);
  return Buffer.concat(got).toString();
}

t.test('SNI naming us: TLS 1.3 terminated, plaintext to the app, client identity in metrics', async (t) => {
  const { proxy, echo } = await inboundProxy(t);
  const s = await meshClient(proxy.inboundAddr.port);
  t.equal(s.getProtocol(), 'TLSv1.3');
  t.equal(await echoOver(s, 'secret'), 'secret', 'the app echoed the decrypted bytes');
  s.end();
  await sleep(50);
  const text = await proxy.metrics.render();
  t.match(text, new RegExp(`^tcp_open_total\\{direction="inbound",peer="src",target_addr="127.0.0.1:${echo.port}",target_ip="127.0.0.1",target_port="${echo.port}",tls="true",client_id="${CLIENT_ID}",srv_group="",srv_kind="default",srv_name="all-unauthenticated",srv_port="${echo.port}"\\} 1$`, 'm'));
});

t.test('openssl s_client as the peer: handshake with our certificate, data echoed', async (t) => {
  const { proxy } = await inboundProxy(t);
  const peer = runSClient(t, proxy.inboundAddr.port, ['-tls1_3', '-servername', TEST_SERVER_NAME, '-CAfile', ca.certPath, '-cert', client.certPath, '-key', client.keyPath, '-quiet'], 'hello from openssl\n');
  const out = await peer.waitFor(/hello from openssl/);
  t.match(out, /hello from openssl/, 'echo came back through the terminated session');
  t.match(peer.stderr, /verify return:1/, 'openssl verified our chain against the trust anchor');
});

t.test('TLS 1.2-only peers are refused', async (t) => {
  const { proxy } = await inboundProxy(t);
  await t.rejects(meshClient(proxy.inboundAddr.port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }), 'handshake fails');
});

t.test('SNI naming another server: passed through untouched, labelled opaque', async (t) => {
  const received: Buffer[] = [];
  const raw = net.createServer((s) => s.on('data', (c: Buffer) => received.push(c)).on('error', () => undefined));
  raw.listen(0, '127.0.0.1');
  await once(raw, 'listening');
  t.teardown(() => raw.close());
  const port = (raw.address() as net.AddressInfo).port;
  const identity = deferredIdentity();
  identity.install(creds);
  const { config } = loadConfig(testProxyEnv(ca.certPem));
  const proxy = await startProxy(config, { identity, origDst: fixedOrigDst(() => socketAddr('127.0.0.1', port)) });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();
  const s = tls.connect({ host: '127.0.0.1', port: proxy.inboundAddr.port, servername: 'other.example.com' });
  s.on('error', () => undefined);
  for (let i = 0; i < 50 && received.length === 0; i++) await sleep(10);
  s.destroy();
  const first = Buffer.concat(received);
  t.equal(first[0], 0x16, 'the app received the ClientHello record itself');
  t.ok(first.includes(Buffer.from('other.example.com')), 'with its SNI intact');
  await sleep(20);
  t.match(await proxy.metrics.render(), /tls="opaque",sni="other.example.com"/);
});

t.test('a silent peer is closed when TLS detection times out', async (t) => {
  const { proxy } = await inboundProxy(t, { LINKERD2_PROXY_INBOUND_DETECT_TIMEOUT: '200ms' });
  const started = Date.now();
  const s = net.connect(proxy.inboundAddr.port, '127.0.0.1');
  await closeReason(s);
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 150 && elapsed < 5000, `closed after the detect timeout (${elapsed}ms)`);
});

t.test('rotation: new handshakes get the new certificate, open connections carry on', async (t) => {
  const { proxy, identity } = await inboundProxy(t);
  const before = await meshClient(proxy.inboundAddr.port);
  const serialBefore = new X509Certificate(before.getPeerX509Certificate()!.raw).serialNumber;
  const next = testCredentials(pki, ca).creds;
  const rotated: Credentials = { ...next, generation: 2 };
  identity.install(rotated);
  const after = await meshClient(proxy.inboundAddr.port);
  const serialAfter = new X509Certificate(after.getPeerX509Certificate()!.raw).serialNumber;
  t.not(serialAfter, serialBefore, 'the new handshake presented the rotated certificate');
  t.equal(await echoOver(before, 'still here'), 'still here', 'the connection made before rotation still works');
  before.destroy();
  after.destroy();
});
