// Inbound HTTP through startProxy: HTTP/1 from an unmeshed client, and HTTP/2 with l5d-orig-proto
// over mTLS from a client that behaves like the Rust outbound proxy.
import t from 'tap';
import http from 'node:http';
import http2 from 'node:http2';
import tls from 'node:tls';
import { once } from 'node:events';
import { startProxy } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { fixedOrigDst, socketAddr } from '../../src/transport/index.js';
import { staticIdentity } from '../../src/identity/static-identity.js';
import { TestPki } from '../support/pki.js';
import { TEST_SERVER_NAME, testCredentials, testProxyEnv } from '../support/proxy-env.js';

const CLIENT_ID = 'web.default.serviceaccount.identity.linkerd.cluster.local';

interface Seen {
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

t.test('HTTP/1 and HTTP/2 + l5d-orig-proto reach an HTTP/1 app', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const { ca, creds } = testCredentials(pki);
  const client = pki.leaf(ca, { dns: [CLIENT_ID] });
  const seen: Seen[] = [];
  const app = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ httpVersion: req.httpVersion, headers: req.headers, body });
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.method} ${req.url}`);
    });
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  t.teardown(() => app.close());
  const appPort = (app.address() as import('node:net').AddressInfo).port;

  const { config } = loadConfig(testProxyEnv(ca.certPem));
  const proxy = await startProxy(config, { identity: staticIdentity(creds), origDst: fixedOrigDst(() => socketAddr('127.0.0.1', appPort)), discovery: false });
  t.teardown(() => proxy.shutdown());
  await proxy.ready();

  // HTTP/1, unmeshed: a forged l5d-client-id must not reach the app.
  const res = await fetch(`http://127.0.0.1:${proxy.inboundAddr.port}/plain`, { headers: { 'l5d-client-id': 'forged.example' } });
  t.equal(res.status, 200);
  t.equal(await res.text(), 'hello GET /plain');
  t.equal(seen[0]?.headers['l5d-client-id'], undefined, 'a client-supplied l5d-client-id is removed');

  // HTTP/2 with l5d-orig-proto over mTLS, as the Rust outbound sends to an h2-hinted endpoint.
  const session = http2.connect(`https://127.0.0.1:${proxy.inboundAddr.port}`, {
    createConnection: () =>
      tls.connect({ host: '127.0.0.1', port: proxy.inboundAddr.port, servername: TEST_SERVER_NAME, ca: ca.certPem, cert: client.certPem, key: client.keyPem, checkServerIdentity: () => undefined, ALPNProtocols: ['h2'] }),
  });
  t.teardown(() => session.close());
  const stream = session.request({ ':method': 'POST', ':path': '/upgraded', ':authority': 'legacy-app.mixed-env.svc.cluster.local:80', 'l5d-orig-proto': 'HTTP/1.1', 'content-type': 'text/plain' });
  stream.end('request body');
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  let body = '';
  stream.on('data', (c: Buffer) => (body += c.toString()));
  await once(stream, 'end');
  t.equal(headers[':status'], 200);
  t.equal(headers['l5d-orig-proto'], 'HTTP/1.1', 'the response is marked as re-upgraded');
  t.equal(body, 'hello POST /upgraded');
  const upgraded = seen[1];
  t.equal(upgraded?.httpVersion, '1.1', 'the app received HTTP/1.1');
  t.equal(upgraded?.headers['l5d-orig-proto'], undefined, 'l5d-orig-proto never reaches the app');
  t.equal(upgraded?.headers['l5d-client-id'], CLIENT_ID, 'the verified client identity is passed to the app');
  t.equal(upgraded?.headers.host, 'legacy-app.mixed-env.svc.cluster.local:80', ':authority becomes Host');
  t.equal(upgraded?.body, 'request body');

  const text = await proxy.metrics.render();
  t.match(text, /^request_total\{direction="inbound",[^}]*tls="true",client_id="web\.default[^}]*\} 1$/m, 'request_total counts the meshed request');
  t.match(text, /^response_total\{direction="inbound",[^}]*status_code="200"[^}]*\} 1$/m);
});
