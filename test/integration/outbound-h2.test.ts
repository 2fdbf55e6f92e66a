// HTTP/2 from the app through the real proxy's outbound HTTP/2 server (spec §5.5): per-request
// routes and balancing, headers and trailers both ways, streamed bodies, resets, the proxy's own
// answers, and meshed endpoints reached over the shared mTLS HTTP/2 connection of a peer proxy.
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import t, { type Test } from 'tap';
import { socketAddr } from '../../src/transport/index.js';
import { duration, type Wire } from '../support/control-plane-codec.js';
import { meshedProxy, type MeshedProxy } from '../support/meshed-proxy.js';
import { addUpdate, balancerBackend, serviceMeta, weightedAddr } from '../support/outbound-wire.js';
import { TEST_SERVER_NAME } from '../support/proxy-env.js';
import { curl, testPki } from './outbound-http-helpers.js';

const CLUSTER_IP = socketAddr('10.43.0.40', 80);
const CLUSTER_KEY = '10.43.0.40:80';
const PATH_A = 'a.test.svc.cluster.local:80';
const PATH_B = 'b.test.svc.cluster.local:80';

interface Origin {
  readonly port: number;
  readonly seen: { headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders | undefined; bytes: number }[];
}

/** A node:http2 (h2c) origin; `answer` writes each response. */
async function h2Origin(t: Test, answer: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) => void): Promise<Origin> {
  const server = http2.createServer();
  const seen: Origin['seen'] = [];
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    const rec: Origin['seen'][number] = { headers, trailers: undefined, bytes: 0 };
    seen.push(rec);
    stream.on('trailers', (tr: http2.IncomingHttpHeaders) => (rec.trailers = tr));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => answer(stream, headers, Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, seen };
}

function httpRule(prefix: string, path: string, extra: Wire = {}): Wire {
  return {
    matches: [{ path: { prefix } }],
    backends: { firstAvailable: { backends: [{ backend: balancerBackend(path, {}, path.split('.')[0]) }] } },
    ...extra,
  };
}

function http2Policy(rules: Wire[]): Wire {
  return { metadata: serviceMeta('h2-svc'), protocol: { http2: { routes: [{ metadata: { default: 'h2' }, rules }] } } };
}

/** A Detect policy whose HTTP/2 routes are `rules` (the app's preface is recognised first). */
function detectPolicy(rules: Wire[]): Wire {
  const http = { routes: [{ metadata: { default: 'h2' }, rules }] };
  return { metadata: serviceMeta('h2-svc'), protocol: { detect: { timeout: duration(10_000), opaque: { routes: [] }, http1: http, http2: http } } };
}

async function proxy(t: Test, policy: Wire): Promise<MeshedProxy> {
  const { ca, creds } = testPki(t);
  const m = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  m.policy.outbound(CLUSTER_KEY).publish(policy);
  return m;
}

function session(t: Test, port: number): http2.ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on('error', () => undefined);
  t.teardown(() => s.destroy());
  return s;
}

interface Reply {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: http2.IncomingHttpHeaders | undefined;
}

function exchange(s: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, trailers?: http2.OutgoingHttpHeaders): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = s.request(headers, { endStream: body === undefined && trailers === undefined, waitForTrailers: trailers !== undefined });
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    let head: http2.IncomingHttpHeaders = {};
    let tr: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (head = h));
    req.on('trailers', (h: http2.IncomingHttpHeaders) => {
      tr = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), trailers: tr }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else if (trailers !== undefined) req.end();
  });
}

t.test('curl --http2-prior-knowledge: status, headers, body and trailers come back through the proxy', async (t) => {
  const origin = await h2Origin(t, (stream, headers, body) => {
    stream.respond({ ':status': 201, 'x-origin': 'yes', 'x-path': String(headers[':path']) }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': String(body.length) }));
    stream.end(`hello ${body.toString()}`);
  });
  const m = await proxy(t, http2Policy([httpRule('/', PATH_A)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', origin.port)]));
  const r = await curl(['--http2-prior-knowledge', '-i', '--data-binary', 'world', '-H', 'host: web.test', `http://127.0.0.1:${m.outboundPort}/p?q=1`]);
  t.equal(r.code, 0, r.stderr);
  const out = r.stdout.toString('latin1');
  t.match(out, /^HTTP\/2 201 \r\n/);
  t.match(out, /\r\nx-origin: yes\r\n/);
  t.match(out, /\r\nx-path: \/p\?q=1\r\n/);
  t.match(out, /\r\n\r\nhello world/, 'the body');
  t.match(out, /hello worldx-checksum: 5\r\n/, 'the trailers follow the body');
  t.equal(origin.seen[0]!.headers[':authority'], 'web.test', 'the authority is the request’s');
  t.equal(origin.seen[0]!.headers[':method'], 'POST');
});

t.test('HTTP routes pick a backend per request; unmatched requests get 404 with l5d-proxy-error', async (t) => {
  const a = await h2Origin(t, (s) => (s.respond({ ':status': 200 }), s.end('a')));
  const b = await h2Origin(t, (s) => (s.respond({ ':status': 200 }), s.end('b')));
  const m = await proxy(t, detectPolicy([httpRule('/a', PATH_A), httpRule('/b', PATH_B)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  m.dst.getSender(PATH_B).publish(addUpdate([weightedAddr('127.0.0.1', b.port)]));
  const s = session(t, m.outboundPort);
  const [ra, rb, none] = await Promise.all([exchange(s, { ':path': '/a/1' }), exchange(s, { ':path': '/b/1' }), exchange(s, { ':path': '/c' })]);
  t.equal(ra.body.toString(), 'a', 'one connection, requests routed to their own backends');
  t.equal(rb.body.toString(), 'b');
  t.equal(none.status, 404);
  t.equal(none.headers['l5d-proxy-error'], 'no route');
  t.equal(none.headers['grpc-status'], undefined, 'not a gRPC request: no grpc-status');
  // A gRPC request that matches no route: 200 + grpc-status NOT_FOUND.
  const g = await exchange(s, { ':method': 'POST', ':path': '/c', 'content-type': 'application/grpc' }, Buffer.alloc(5));
  t.equal(g.status, 200);
  t.equal(g.headers['grpc-status'], '5');
  t.equal(g.headers['grpc-message'], 'no route');
});

t.test('request trailers reach the origin; l5d-require-id fails on an endpoint without identity', async (t) => {
  const origin = await h2Origin(t, (s) => (s.respond({ ':status': 200 }), s.end('ok')));
  const m = await proxy(t, http2Policy([httpRule('/', PATH_A)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', origin.port)]));
  const s = session(t, m.outboundPort);
  const r = await exchange(s, { ':method': 'POST', ':path': '/t', 'x-keep': 'me' }, undefined, { 'x-req-trailer': 'sent' });
  t.equal(r.status, 200);
  t.equal(origin.seen[0]!.trailers?.['x-req-trailer'], 'sent');
  t.equal(origin.seen[0]!.headers['x-keep'], 'me');
  const denied = await exchange(s, { ':path': '/t', 'l5d-require-id': 'someone.else' });
  t.equal(denied.status, 502, 'an unmeshed endpoint has no identity to satisfy l5d-require-id');
  t.match(String(denied.headers['l5d-proxy-error']), /required id/);
});

t.test('a 16 MiB body streams both ways', async (t) => {
  // Echo the body back as it arrives instead of after the end.
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.pipe(stream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const echoPort = (server.address() as net.AddressInfo).port;
  const m = await proxy(t, http2Policy([httpRule('/', PATH_A)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', echoPort)]));
  const s = session(t, m.outboundPort);
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
  const total = 16 * 1024 * 1024;
  const sent = createHash('sha256');
  const got = createHash('sha256');
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const req = s.request({ ':method': 'POST', ':path': '/big' });
    req.on('data', (c: Buffer) => {
      received += c.length;
      got.update(c);
    });
    req.on('end', resolve);
    req.on('error', reject);
    let written = 0;
    const pump = (): void => {
      while (written < total) {
        written += chunk.length;
        sent.update(chunk);
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  t.equal(received, total, '16 MiB came back');
  t.equal(got.digest('hex'), sent.digest('hex'), 'byte for byte');
});

t.test('a client reset cancels the upstream stream', async (t) => {
  let upstreamClosed: (code: number) => void = () => undefined;
  const closed = new Promise<number>((r) => (upstreamClosed = r));
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.write('started');
    stream.on('close', () => upstreamClosed(stream.rstCode ?? -1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const m = await proxy(t, http2Policy([httpRule('/', PATH_A)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', (server.address() as net.AddressInfo).port)]));
  const s = session(t, m.outboundPort);
  const req = s.request({ ':path': '/long' });
  req.on('error', () => undefined);
  await new Promise<void>((r) => req.once('data', () => r()));
  req.close(http2.constants.NGHTTP2_CANCEL);
  t.equal(await closed, http2.constants.NGHTTP2_CANCEL, 'the origin’s stream was cancelled');
});

t.test('a retried HTTP/2 request replays its body; the route timeout answers 504', async (t) => {
  let n = 0;
  const origin = await h2Origin(t, (stream, headers, body) => {
    n++;
    if (headers[':path'] === '/slow') return void setTimeout(() => !stream.destroyed && (stream.respond({ ':status': 200 }), stream.end('late')), 1500);
    if (headers[':path'] === '/big') return void (stream.respond({ ':status': 503 }), stream.end(`big ${body.length}`));
    stream.respond({ ':status': n === 1 ? 503 : 200 });
    stream.end(`attempt ${n}: ${body.toString()}`);
  });
  const retry = { retry: { maxRetries: 2, maxRequestBytes: 1024, conditions: { statusRanges: [{ start: 500, end: 599 }] } } };
  const m = await proxy(t, http2Policy([httpRule('/slow', PATH_A, { timeouts: { request: duration(200) } }), httpRule('/', PATH_A, retry)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', origin.port)]));
  const s = session(t, m.outboundPort);
  const r = await exchange(s, { ':method': 'POST', ':path': '/r' }, Buffer.from('payload'));
  t.equal(r.status, 200);
  t.equal(r.body.toString(), 'attempt 2: payload', 'the second attempt got the same body');
  const before = origin.seen.length;
  const big = await exchange(s, { ':method': 'POST', ':path': '/big' }, Buffer.alloc(4096, 7));
  t.equal(big.status, 503, 'a body past max_request_bytes is not replayed: the 503 is the answer');
  t.equal(big.body.toString(), 'big 4096');
  t.equal(origin.seen.length - before, 1, 'one attempt only');
  const slow = await exchange(s, { ':path': '/slow' });
  t.equal(slow.status, 504);
  t.match(String(slow.headers['l5d-proxy-error']), /timed out after 200ms/);
});

t.test('a meshed endpoint gets the request as HTTP/2 over mTLS through its proxy', async (t) => {
  const origin = await h2Origin(t, (stream, headers) => {
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(`meshed ${String(headers['l5d-client-id'])}`);
  });
  const { ca, creds } = testPki(t);
  const originAddr = socketAddr('127.0.0.1', origin.port);
  const b = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => originAddr, inbound: () => originAddr });
  const a = await proxy(t, http2Policy([httpRule('/', PATH_A)]));
  a.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', b.inboundPort, { dnsIdentity: TEST_SERVER_NAME, h2: true })]));
  const s = session(t, a.outboundPort);
  const r = await exchange(s, { ':path': '/m', 'l5d-require-id': TEST_SERVER_NAME });
  t.equal(r.status, 200, 'the endpoint has the required identity');
  t.equal(origin.seen[0]!.headers['l5d-require-id'], undefined, 'l5d-require-id is not sent on');
  t.match(r.body.toString(), /^meshed \S+/, 'the peer proxy saw a client identity');
  t.notOk(r.body.toString().endsWith('undefined'), 'l5d-client-id was set by the inbound side (mTLS)');
  t.equal(r.trailers?.['grpc-status'], '0', 'trailers came back');
  t.equal(origin.seen[0]!.headers['l5d-orig-proto'], undefined, 'no orig-proto upgrade: the app already spoke HTTP/2');
});

t.test('a response timeout mid-stream ends a gRPC response with DEADLINE_EXCEEDED trailers', async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.write(Buffer.from([0, 0, 0, 0, 1, 0x41]));
    stream.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const m = await proxy(t, http2Policy([httpRule('/', PATH_A, { timeouts: { response: duration(300) } })]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', (server.address() as net.AddressInfo).port)]));
  const s = session(t, m.outboundPort);
  const r = await exchange(s, { ':method': 'POST', ':path': '/pkg.Svc/Stream', 'content-type': 'application/grpc', te: 'trailers' }, Buffer.alloc(5));
  t.equal(r.status, 200, 'the response had begun');
  t.equal(r.body.length, 6, 'what the endpoint sent arrived');
  t.equal(r.trailers?.['grpc-status'], '4', 'then the proxy ended it with DEADLINE_EXCEEDED');
  t.match(String(r.trailers?.['grpc-message']), /timed out after 300ms/);
});
