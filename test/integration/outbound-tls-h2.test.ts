// Outbound through the real proxy for the protocols it does not parse per request: TLS passthrough
// routed by SNI (protocol Tls), and HTTP/2 from the app carried to the Service's endpoints.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import t, { type Test } from 'tap';
import { socketAddr } from '../../src/transport/index.js';
import { duration, type Wire } from '../support/control-plane-codec.js';
import { meshedProxy } from '../support/meshed-proxy.js';
import { SERVICE_PATH, addUpdate, balancerBackend, forwardBackend, serviceMeta, weightedAddr } from '../support/outbound-wire.js';
import { TestPki } from '../support/pki.js';
import { testCredentials } from '../support/proxy-env.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);
const CLUSTER_IP = socketAddr('10.43.0.20', 443);

/** A TLS server (not a proxy) answering every connection with its own name. */
async function tlsOrigin(t: Test, name: string): Promise<number> {
  const leaf = pki.leaf(ca, { dns: [name] });
  const server = tls.createServer({ cert: leaf.chainPem, key: leaf.keyPem }, (s) => s.end(`${name}\n`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

function tlsRoute(sni: Wire[], backend: Wire, name: string): Wire {
  return { metadata: { default: name }, snis: sni, rules: [{ backends: { firstAvailable: { backends: [{ backend }] } } }] };
}

/** Opens TLS through the outbound port with `servername`; resolves with what the server said, or the error code. */
function tlsThrough(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername, ca: ca.certPem, minVersion: 'TLSv1.2' });
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('end', () => resolve(got.trim()));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code ?? e.message}`));
  });
}

/** One HTTP/2 prior-knowledge GET through `port` on a new connection; resolves with the body. */
async function h2Get(t: Test, port: number, path: string): Promise<string> {
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.teardown(() => client.close());
  return new Promise<string>((resolve, reject) => {
    const req = client.request({ ':path': path });
    let got = '';
    req.on('data', (c: Buffer) => (got += c.toString()));
    req.on('end', () => resolve(got));
    req.on('error', reject);
    req.end();
  });
}

t.test('protocol Tls: the SNI picks the route, the session passes through to that backend untouched', async (t) => {
  const a = await tlsOrigin(t, 'a.example.com');
  const b = await tlsOrigin(t, 'b.example.com');
  const mesh = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  mesh.policy.outbound('10.43.0.20:443').publish({
    metadata: serviceMeta('tls-svc'),
    protocol: {
      tls: {
        routes: [
          tlsRoute([{ exact: 'a.example.com' }], forwardBackend(weightedAddr('127.0.0.1', a)), 'a'),
          tlsRoute([{ suffix: { reverseLabels: ['com', 'example'] } }], forwardBackend(weightedAddr('127.0.0.1', b)), 'b'),
        ],
      },
    },
  });
  t.equal(await tlsThrough(mesh.outboundPort, 'a.example.com'), 'a.example.com', 'the exact SNI route wins');
  t.equal(await tlsThrough(mesh.outboundPort, 'b.example.com'), 'b.example.com', 'a wildcard SNI route');
  t.match(await tlsThrough(mesh.outboundPort, 'other.test'), /^error:/, 'no route for the SNI: the connection is closed');
  // Not TLS at all on a Tls port.
  const plain = await new Promise<string>((resolve) => {
    const s = net.connect(mesh.outboundPort, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n'));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.on('close', () => resolve('closed'));
    s.resume();
  });
  t.match(plain, /ECONNRESET|closed/, 'plaintext on a Tls port is refused');
});

t.test('HTTP/2 from the app reaches the Service endpoints as HTTP/2 (Detect and Http2 policies)', async (t) => {
  const h2 = http2.createServer();
  const seen: string[] = [];
  h2.on('stream', (stream, headers) => {
    seen.push(String(headers[':path']));
    stream.respond({ ':status': 200 });
    stream.end('h2 origin');
  });
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
  t.teardown(() => h2.close());
  const port = (h2.address() as net.AddressInfo).port;

  const mesh = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  const backend = balancerBackend();
  const route = { metadata: { default: 'h2' }, rules: [{ matches: [{ path: { prefix: '/' } }], backends: { firstAvailable: { backends: [{ backend }] } } }] };
  mesh.policy.outbound('10.43.0.20:443').publish({ metadata: serviceMeta(), protocol: { http2: { routes: [route] } } });
  mesh.dst.getSender(SERVICE_PATH).publish(addUpdate([weightedAddr('127.0.0.1', port)]));

  const body = await h2Get(t, mesh.outboundPort, '/grpc.Service/Method');
  t.equal(body, 'h2 origin', 'an Http2 policy: served by the discovered endpoint');
  t.same(seen, ['/grpc.Service/Method']);

  // Detect: the preface is recognised and the request is routed by the policy's HTTP/2 routes.
  mesh.policy.outbound('10.43.0.20:443').publish({
    metadata: serviceMeta(),
    protocol: {
      detect: {
        timeout: duration(10_000),
        opaque: { routes: [{ metadata: { default: 'opaq' }, rules: [{ backends: { firstAvailable: { backends: [{ backend }] } } }] }] },
        http1: { routes: [] },
        http2: { routes: [route] },
      },
    },
  });
  await new Promise((r) => setTimeout(r, 100));
  const body2 = await h2Get(t, mesh.outboundPort, '/detected');
  t.equal(body2, 'h2 origin', 'a Detect policy: the HTTP/2 request is served through its http2 route');
});
