// The h2 hint through two real proxies (spec §4.4, §5.7; upstream transparency.rs proxy_to_proxy):
// client → proxy A outbound → mTLS HTTP/2 with l5d-orig-proto → proxy B inbound → HTTP/1.1 origin.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { socketAddr } from '../../src/transport/index.js';
import type { Wire } from '../support/control-plane-codec.js';
import { meshedProxy, type MeshedProxy } from '../support/meshed-proxy.js';
import { SERVICE_PATH, addUpdate, balancerBackend, servicePolicy, weightedAddr } from '../support/outbound-wire.js';
import { TEST_SERVER_NAME } from '../support/proxy-env.js';
import { credentialsFromLeaf } from '../support/static-identity.js';
import { CLUSTER_IP, CLUSTER_KEY, curl, httpOrigin, keepAliveOrigin, parseCurlOutput, rawClient, testPki, type HttpOrigin } from './outbound-http-helpers.js';

const HOST = 'web.test.svc.cluster.local';
const CLIENT_ID = 'client.test.serviceaccount.identity.linkerd.cluster.local';

interface Pair {
  readonly a: MeshedProxy;
  readonly b: MeshedProxy;
}

/** Proxy B in front of `originPort` (its inbound), proxy A whose Service endpoint is B with the h2 hint. */
async function proxyPair(t: Test, originPort: number, opts: { dnsIdentity?: string; rule?: Wire } = {}): Promise<Pair> {
  const { pki, ca, creds } = testPki(t);
  const origin = socketAddr('127.0.0.1', originPort);
  const b = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => origin, inbound: () => origin });
  const clientCreds = credentialsFromLeaf(pki.leaf(ca, { dns: [CLIENT_ID] }), { trustAnchors: ca });
  const a = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds: clientCreds, outbound: () => CLUSTER_IP });
  a.policy.outbound(CLUSTER_KEY).publish(servicePolicy([balancerBackend()], opts.rule ?? {}));
  a.dst.getSender(SERVICE_PATH).publish(addUpdate([weightedAddr('127.0.0.1', b.inboundPort, { dnsIdentity: opts.dnsIdentity ?? TEST_SERVER_NAME, h2: true })]));
  return { a, b };
}

interface Seen {
  readonly version: string;
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

async function recordingOrigin(t: Test): Promise<HttpOrigin & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const o = await httpOrigin(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ version: req.httpVersion, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.setHeader('x-origin', 'yes');
      res.end(`hello ${req.url}`);
    });
  });
  return Object.assign(o, { seen });
}

t.test('an h2-hinted endpoint: the origin sees HTTP/1.1, proxy B received HTTP/2 with l5d-orig-proto, nothing leaks', async (t) => {
  const origin = await recordingOrigin(t);
  const { a, b } = await proxyPair(t, origin.port);
  const dispatcher = new Agent({ connections: 4 });
  t.teardown(() => dispatcher.close());
  const responses = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const res = await request(`http://127.0.0.1:${a.outboundPort}/r${i}?x=1`, { dispatcher, method: 'POST', body: `body ${i}`, headers: { host: HOST } });
      return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    }),
  );
  for (const [i, r] of responses.entries()) {
    t.equal(r.status, 200, `request ${i}`);
    t.equal(r.body, `hello /r${i}?x=1`);
    t.equal(r.headers['x-origin'], 'yes');
    t.notOk('l5d-orig-proto' in r.headers, 'l5d_orig_proto_header_isnt_leaked: not to the client');
  }
  t.equal(origin.seen.length, 6);
  for (const s of origin.seen) {
    t.equal(s.version, '1.1', 'the origin sees HTTP/1.1');
    t.notOk('l5d-orig-proto' in s.headers, 'l5d_orig_proto_header_isnt_leaked: not to the origin');
    t.equal(s.headers.host, HOST, 'Host arrives');
    t.equal(s.headers['l5d-client-id'], CLIENT_ID, "proxy B set l5d-client-id from A's mTLS identity");
  }
  t.same(origin.seen.map((s) => s.body).sort(), Array.from({ length: 6 }, (_, i) => `body ${i}`).sort(), 'bodies crossed intact');

  const aText = await a.proxy.metrics.render();
  const opens = aText.split('\n').filter((l) => l.startsWith('tcp_open_total{direction="outbound",peer="dst"') && l.includes(`target_port="${b.inboundPort}"`));
  t.equal(opens.length, 1, 'one connect series from A to B');
  t.match(opens[0] ?? '', new RegExp(`tls="true",server_id="${TEST_SERVER_NAME}".*\\} 1$`), 'a single mTLS connection carried all six requests (HTTP/2)');
  const bText = await b.proxy.metrics.render();
  t.match(bText, new RegExp(`^tcp_open_total\\{direction="inbound",peer="src",[^}]*tls="true",client_id="${CLIENT_ID}"[^}]*\\} 1$`, 'm'), 'B accepted one connection, meshed');
  t.match(bText, /^request_total\{direction="inbound",[^}]*\} 6$/m, "B's inbound served the six requests");
});

t.test('HTTP/1.0 and absolute-form requests keep their form across the upgrade', async (t) => {
  const origin = await keepAliveOrigin(t, (req) => `HTTP/1.0 200 OK\r\ncontent-length: ${req.line.length}\r\n\r\n${req.line}`);
  const { a } = await proxyPair(t, origin.port);
  const ten = await rawClient(t, a.outboundPort);
  ten.socket.write(`GET /ten HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`);
  const r10 = await ten.reader.response();
  t.equal(r10.line, 'HTTP/1.0 200 OK', 'the response comes back as HTTP/1.0');
  t.equal(r10.body.toString(), 'GET /ten HTTP/1.0', 'the origin got HTTP/1.0');
  const abs = await rawClient(t, a.outboundPort);
  abs.socket.write(`GET http://${HOST}/abs HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const rAbs = await abs.reader.response();
  t.equal(rAbs.status, 200);
  t.equal(rAbs.body.toString(), `GET http://${HOST}/abs HTTP/1.1`, 'the origin got the absolute-form URI back');
});

t.test('chunked bodies and large payloads cross the upgrade both ways', async (t) => {
  const origin = await httpOrigin(t, (req, res) => {
    res.setHeader('x-te', String(req.headers['transfer-encoding'] ?? ''));
    req.pipe(res);
  });
  const { a } = await proxyPair(t, origin.port);
  const payload = Buffer.alloc(4 * 1024 * 1024, 0x5a);
  const got = await new Promise<{ status: number; length: number; te: string | undefined }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: a.outboundPort, method: 'PUT', path: '/echo', headers: { host: HOST, 'transfer-encoding': 'chunked' } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, length: n, te: res.headers['transfer-encoding'] }));
    });
    req.on('error', reject);
    req.write(payload.subarray(0, 1024));
    req.end(payload.subarray(1024));
  });
  t.equal(got.status, 200);
  t.equal(got.length, payload.length, '4 MiB chunked request echoed through both proxies');
  t.equal(got.te, 'chunked', 'a length-less HTTP/2 response is chunked for the HTTP/1.1 client');
});

t.test('l5d-require-id naming proxy B’s identity passes (and is consumed); another identity gets 502', async (t) => {
  const origin = await recordingOrigin(t);
  const { a } = await proxyPair(t, origin.port);
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  const ok = await request(`http://127.0.0.1:${a.outboundPort}/ok`, { dispatcher, headers: { host: HOST, 'l5d-require-id': TEST_SERVER_NAME } });
  t.equal(ok.statusCode, 200);
  await ok.body.text();
  t.notOk('l5d-require-id' in origin.seen[0]!.headers, 'the header is removed before forwarding');
  const bad = await request(`http://127.0.0.1:${a.outboundPort}/bad`, { dispatcher, headers: { host: HOST, 'l5d-require-id': 'other.test.serviceaccount.identity.linkerd.cluster.local' } });
  t.equal(bad.statusCode, 502);
  t.match(String(bad.headers['l5d-proxy-error']), `found Some("${TEST_SERVER_NAME}")`);
  await bad.body.text();
  t.equal(origin.seen.length, 1, 'the mismatched request never left proxy A');
});

t.test('http11_upgrades across an h2-hinted endpoint use a dedicated HTTP/1 mTLS connection', async (t) => {
  const origin = await httpOrigin(t, (_req, res) => res.end('plain'));
  origin.server.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: chatproto\r\n\r\n');
    socket.pipe(socket);
  });
  const { a } = await proxyPair(t, origin.port);
  const c = await rawClient(t, a.outboundPort);
  c.socket.write(`GET /chat HTTP/1.1\r\nHost: ${HOST}\r\nConnection: upgrade\r\nUpgrade: chatproto\r\n\r\n`);
  const head = await c.reader.until('\r\n\r\n');
  t.match(head, /^HTTP\/1.1 101 /, 'the 101 comes back');
  c.socket.write('ping across two proxies');
  t.equal((await c.reader.bytes(23)).toString(), 'ping across two proxies', 'bytes tunnelled both ways');
});

t.test('proxy_to_proxy http1_inbound_timeout-style failure: the origin is gone ⇒ the client gets 502', async (t) => {
  const origin = await recordingOrigin(t);
  const { a } = await proxyPair(t, origin.port);
  origin.close();
  await new Promise((r) => setTimeout(r, 50));
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  const res = await request(`http://127.0.0.1:${a.outboundPort}/`, { dispatcher, headers: { host: HOST } });
  await res.body.text();
  t.equal(res.statusCode, 502, 'B answers 502 for its refused app connection and A relays it');
  t.notOk('l5d-proxy-error' in res.headers, 'l5d-proxy-error from the peer proxy is stripped');
});

t.test('a policy retry across the upgrade: the discarded attempt’s stream is cancelled, the replay succeeds', async (t) => {
  let n = 0;
  const bodies: string[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString());
      res.statusCode = n++ === 0 ? 503 : 200;
      res.end(`attempt ${n}`);
    });
  });
  const rule = { retry: { maxRetries: 2, maxRequestBytes: 1024, conditions: { statusRanges: [{ start: 500, end: 599 }] } } };
  const { a } = await proxyPair(t, origin.port, { rule });
  const dispatcher = new Agent();
  t.teardown(() => dispatcher.close());
  const res = await request(`http://127.0.0.1:${a.outboundPort}/`, { dispatcher, method: 'POST', body: 'replay me', headers: { host: HOST } });
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), 'attempt 2');
  t.same(bodies, ['replay me', 'replay me'], 'the body crossed both proxies twice');
  const again = await request(`http://127.0.0.1:${a.outboundPort}/`, { dispatcher, headers: { host: HOST } });
  t.equal(again.statusCode, 200, 'the shared HTTP/2 connection still serves');
  await again.body.text();
});

t.test('Expect: 100-continue across the upgrade: curl’s upload waits for the relayed 100 and arrives intact', async (t) => {
  const lengths: number[] = [];
  const origin = await httpOrigin(t, (req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      lengths.push(n);
      res.end(`got ${n}`);
    });
  });
  const { a } = await proxyPair(t, origin.port);
  const body = Buffer.alloc(3 * 1024 * 1024, 0x41);
  const r = await curl(['-i', '-v', '--expect100-timeout', '10', '-H', `Host: ${HOST}`, '-H', 'Expect: 100-continue', '--data-binary', '@-', `http://127.0.0.1:${a.outboundPort}/up`], body);
  t.equal(r.code, 0, r.stderr.slice(-400));
  t.match(r.stderr, /< HTTP\/1.1 100 Continue/, 'the origin’s 100 came back through both proxies');
  const res = parseCurlOutput(r.stdout);
  t.equal(res.status, 200);
  t.equal(res.body.toString(), `got ${body.length}`);
  t.same(lengths, [body.length]);
});

t.test('a node:http2 stand-in for a Rust inbound (mTLS, no ALPN) sees HTTP/2 with l5d-orig-proto', async (t) => {
  const { pki, ca } = testPki(t);
  const leaf = pki.leaf(ca, { dns: [TEST_SERVER_NAME] });
  const seen: { headers: http2.IncomingHttpHeaders }[] = [];
  const peers: string[] = [];
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    seen.push({ headers });
    stream.respond({ ':status': 200, 'l5d-orig-proto': 'HTTP/1.1', 'x-standin': 'yes' });
    stream.end('from the stand-in');
  });
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
  const h2Port = (h2.address() as net.AddressInfo).port;
  const sockets: net.Socket[] = [];
  // The mesh offers no ALPN (a Rust inbound detects the preface): TLS ends here, h2c behind it.
  const server = tls.createServer({ cert: leaf.chainPem, key: leaf.keyPem, ca: ca.certPem, requestCert: true }, (s) => {
    peers.push(s.getPeerCertificate().subjectaltname ?? '');
    const up = net.connect(h2Port, '127.0.0.1');
    sockets.push(s, up);
    s.on('error', () => undefined);
    up.on('error', () => undefined);
    s.pipe(up).pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
    h2.close();
  });
  const standIn = (server.address() as net.AddressInfo).port;
  const { creds } = testPki(t);
  const a = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  a.policy.outbound(CLUSTER_KEY).publish(servicePolicy([balancerBackend()]));
  a.dst.getSender(SERVICE_PATH).publish(addUpdate([weightedAddr('127.0.0.1', standIn, { dnsIdentity: TEST_SERVER_NAME, h2: true })]));
  const c = await rawClient(t, a.outboundPort);
  c.socket.write(`GET http://${HOST}/abs?q=1 HTTP/1.1\r\nHost: ${HOST}\r\nX-App: 1\r\n\r\n`);
  const res = await c.reader.response();
  t.equal(res.line, 'HTTP/1.1 200 OK');
  t.equal(res.headers.get('transfer-encoding'), 'chunked', 'a length-less HTTP/2 body is chunked for HTTP/1.1');
  t.equal(res.body.toString(), '11\r\nfrom the stand-in\r\n0\r\n\r\n');
  t.equal(res.headers.get('x-standin'), 'yes');
  t.notOk(res.headers.has('l5d-orig-proto'), 'not leaked to the client');
  const h = seen[0]!.headers;
  t.equal(h['l5d-orig-proto'], 'HTTP/1.1; absolute-form', 'the upgraded request names its HTTP/1 form');
  t.equal(h[':authority'], HOST);
  t.equal(h[':path'], '/abs?q=1');
  t.equal(h['x-app'], '1');
  t.match(peers[0] ?? '', /URI:spiffe:\/\//, 'over mTLS with the client proxy’s certificate');
});
