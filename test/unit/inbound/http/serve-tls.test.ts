// Both inbound HTTP servers on a terminated TLS session (no ALPN, as mesh TLS): detection runs on
// the decrypted stream and the HTTP/2 server adopts a hand-made server-side TLSSocket.
import http2 from 'node:http2';
import tls from 'node:tls';
import t from 'tap';
import { TestPki } from '../../../support/pki.js';
import { MESHED_ID, httpApp, meshed, portPolicy, runtime, startProxy } from './helpers/harness.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root();
const leaf = pki.leaf(root, { dns: ['web.emojivoto.serviceaccount.identity.linkerd.cluster.local'] });
const serverTls = { key: leaf.keyPem, cert: leaf.chainPem };

function tlsConnect(port: number): tls.TLSSocket {
  const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'web.example' });
  s.on('error', () => undefined);
  return s;
}

t.test('HTTP/2 with l5d-orig-proto over a TLS session without ALPN', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port, peer: meshed(), tls: serverTls });
  const session = http2.connect(`https://127.0.0.1:${proxy.port}`, { createConnection: () => tlsConnect(proxy.port) });
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  const res = await new Promise<{ status: unknown; origProto: unknown; body: string }>((resolve, reject) => {
    const req = session.request({
      ':method': 'GET',
      ':path': '/over-tls',
      ':authority': 'web:8080',
      host: 'web:8080',
      'l5d-orig-proto': 'HTTP/1.1',
    });
    let status: unknown;
    let origProto: unknown;
    let body = '';
    req.setEncoding('latin1');
    req.on('response', (h) => {
      status = h[':status'];
      origProto = h['l5d-orig-proto'];
    });
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve({ status, origProto, body }));
    req.on('error', reject);
    req.end();
  });
  t.equal(res.status, 200);
  t.equal(res.origProto, 'HTTP/1.1');
  t.equal(res.body, 'ok:/over-tls');
  t.equal(app.seen[0]!.headers['l5d-client-id'], MESHED_ID);
});

t.test('HTTP/1 over a TLS session', async (t) => {
  const r = runtime(t);
  const app = await httpApp(t);
  const proxy = await startProxy(t, r, { policy: portPolicy('all-unauthenticated'), appPort: app.port, peer: meshed(), tls: serverTls });
  const s = tlsConnect(proxy.port);
  t.teardown(() => s.destroy());
  await new Promise((resolve) => s.once('secureConnect', resolve));
  let got = '';
  s.setEncoding('latin1');
  s.on('data', (c: string) => (got += c));
  s.write('GET /tls1 HTTP/1.1\r\nHost: web\r\n\r\n');
  const deadline = Date.now() + 3000;
  while (!got.includes('ok:/tls1') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.match(got, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(got, /ok:\/tls1$/);
});
