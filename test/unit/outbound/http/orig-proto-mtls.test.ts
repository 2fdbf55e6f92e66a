// The orig-proto upgrade over the real endpoint connector's mesh TLS (no ALPN, as the peer
// proxy's inbound detects HTTP/2 from the preface), with a TLS terminator in front of an h2c peer.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import t from 'tap';
import { request } from 'undici';
import { createEndpointConnector } from '../../../../src/outbound/endpoint/connector.js';
import { TestPki } from '../../../support/pki.js';
import { testCredentials } from '../../../support/proxy-env.js';
import { FakeDispatcher, balancerBackend, endpoint, h2Origin, meshedIdentity, simpleTarget, startProxy, testRuntime } from './helpers.js';

const PEER_ID = 'web.test.serviceaccount.identity.linkerd.cluster.local';

t.test('HTTP/1 to an h2-hinted meshed endpoint rides one mTLS HTTP/2 connection', async (t) => {
  const pki = new TestPki();
  const { ca, creds } = testCredentials(pki);
  const peerLeaf = pki.leaf(ca, { dns: [PEER_ID] });
  const seen: http2.IncomingHttpHeaders[] = [];
  const origin = await h2Origin(t, (stream, headers) => {
    seen.push(headers);
    stream.respond({ ':status': 200, 'l5d-orig-proto': 'HTTP/1.1' });
    stream.end('meshed');
  });
  const handshakes: { servername: string | false; alpn: string | false; clientSan: string | undefined }[] = [];
  const sockets: net.Socket[] = [];
  const terminator = tls.createServer(
    { key: peerLeaf.keyPem, cert: peerLeaf.chainPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' },
    (s) => {
      handshakes.push({ servername: s.servername ?? false, alpn: s.alpnProtocol ?? false, clientSan: s.getPeerX509Certificate()?.subjectAltName });
      const up = net.connect(origin.port, '127.0.0.1');
      sockets.push(s, up);
      s.on('error', () => undefined);
      up.on('error', () => undefined);
      s.pipe(up).pipe(s);
    },
  );
  await new Promise<void>((r) => terminator.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    terminator.close();
  });
  const port = (terminator.address() as net.AddressInfo).port;

  const rt = testRuntime({}, [], creds);
  const connector = createEndpointConnector(rt, { allowLoopback: true });
  const backend = balancerBackend('web');
  const ep = endpoint(port, { tlsIdentity: meshedIdentity(PEER_ID), protocolHint: 'h2' });
  const proxy = await startProxy(t, rt, connector, simpleTarget(new FakeDispatcher(backend, [ep])));
  for (let i = 0; i < 3; i++) {
    const res = await request(`http://127.0.0.1:${proxy.port}/m${i}`, { headers: { host: 'web.test' } });
    t.equal(res.statusCode, 200);
    t.equal(await res.body.text(), 'meshed');
    t.equal(res.headers['l5d-orig-proto'], undefined);
  }
  t.equal(handshakes.length, 1, 'one TLS connection carried every request');
  t.equal(handshakes[0]!.servername, PEER_ID, 'SNI is the peer identity');
  t.equal(handshakes[0]!.alpn, false, 'no ALPN on mesh TLS');
  t.match(handshakes[0]!.clientSan, /spiffe:\/\/root\.linkerd\.cluster\.local\/test-proxy/, 'our certificate was presented');
  t.same(seen.map((h) => h['l5d-orig-proto']), ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1']);
  const metrics = await rt.metrics.render();
  t.match(metrics, `request_total{direction="outbound",authority="web.test.svc.cluster.local:80",target_addr="127.0.0.1:${port}",target_ip="127.0.0.1",target_port="${port}",tls="true",server_id="${PEER_ID}"} 3`);
});
