// LINKERD2_PROXY_INGRESS_MODE through the real proxy: l5d-dst-override names the Service per
// request (discovered by name), requests without it go by original destination, bad or unknown
// names close the connection (HTTP/1) or reset the stream (HTTP/2) as upstream does, and non-HTTP
// connections are forwarded opaque.
import type http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { socketAddr, type SocketAddr } from '../../src/transport/index.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { meshedProxy, type MeshedProxy } from '../support/meshed-proxy.js';
import { SERVICE_PATH, addUpdate, balancerBackend, forwardBackend, serviceMeta, servicePolicy, weightedAddr } from '../support/outbound-wire.js';
import { curl, httpOrigin, parseCurlOutput, testPki } from './outbound-http-helpers.js';

const WEB = 'web.test.svc.cluster.local';
const WEB_AUTHORITY = `${WEB}:80`;
/** The app's connections all claim this original destination (a ClusterIP of the `echo` Service). */
const ORIG = socketAddr('10.43.0.10', 80);

interface Seen {
  readonly name: string;
  readonly headers: http.IncomingHttpHeaders;
}

async function namedOrigin(t: Test, name: string, seen: Seen[]): Promise<number> {
  const o = await httpOrigin(t, (req, res) => {
    seen.push({ name, headers: req.headers });
    res.setHeader('x-origin', name);
    res.end(name);
  });
  return o.port;
}

async function ingressMesh(t: Test, orig: SocketAddr = ORIG, logger?: CaptureLogger): Promise<MeshedProxy> {
  const { ca, creds } = testPki(t);
  return meshedProxy(t, {
    trustAnchorsPem: ca.certPem,
    creds,
    outbound: () => orig,
    env: { LINKERD2_PROXY_INGRESS_MODE: 'true' },
    ...(logger !== undefined ? { logger } : {}),
  });
}

/** The `web` Service: a policy by authority over two endpoints, and its (route-less) profile. */
function publishWeb(mesh: MeshedProxy, ports: readonly number[]): void {
  mesh.policy.outbound(WEB_AUTHORITY).publish({ ...servicePolicy([balancerBackend(WEB_AUTHORITY, {}, 'web')]), metadata: serviceMeta('web') });
  mesh.dst.getSender(WEB_AUTHORITY).publish(addUpdate(ports.map((p) => weightedAddr('127.0.0.1', p)), { service: 'web', namespace: 'test' }));
  mesh.dst.profileSender(WEB_AUTHORITY).publish({ fullyQualifiedName: WEB });
}

function agent(t: Test): Agent {
  const a = new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  t.teardown(() => a.close());
  return a;
}

t.test('l5d-dst-override names a Service: discovered by name, balanced over its endpoints, the header stripped', async (t) => {
  const seen: Seen[] = [];
  const a = await namedOrigin(t, 'web-a', seen);
  const b = await namedOrigin(t, 'web-b', seen);
  const orig = await namedOrigin(t, 'echo', seen);
  const mesh = await ingressMesh(t);
  publishWeb(mesh, [a, b]);
  mesh.policy.outbound('10.43.0.10:80').publish(servicePolicy([balancerBackend()]));
  mesh.dst.getSender(SERVICE_PATH).publish(addUpdate([weightedAddr('127.0.0.1', orig)]));

  const viaCurl = await curl(['-i', '-H', `l5d-dst-override: ${WEB}:80`, `http://127.0.0.1:${mesh.outboundPort}/hello`]);
  t.equal(viaCurl.code, 0, viaCurl.stderr);
  const r = parseCurlOutput(viaCurl.stdout);
  t.equal(r.status, 200);
  t.match(r.body.toString(), /^web-[ab]$/, 'answered by an endpoint of the named Service, not the original destination');

  // One keep-alive connection carries requests for both targets: selection is per request.
  const one = new Agent({ keepAliveTimeout: 10_000, connections: 1 });
  t.teardown(() => one.close());
  const answers: string[] = [];
  for (let i = 0; i < 8; i++) {
    const override = i % 2 === 1 ? {} : { 'l5d-dst-override': WEB };
    const res = await request(`http://127.0.0.1:${mesh.outboundPort}/r${i}`, { dispatcher: one, headers: { host: 'anything.example', ...override } });
    t.equal(res.statusCode, 200);
    answers.push(await res.body.text());
  }
  t.same(answers.filter((_, i) => i % 2 === 1), ['echo', 'echo', 'echo', 'echo'], 'no header: routed by the original destination');
  t.notOk(answers.some((x, i) => i % 2 === 0 && x === 'echo'), 'with the header: never the original destination');

  // Concurrent requests spread over both endpoints (P2C by load).
  const dispatcher = agent(t);
  const origins = new Set<string>();
  for (let round = 0; round < 10 && origins.size < 2; round++) {
    const bodies = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const res = await request(`http://127.0.0.1:${mesh.outboundPort}/c${i}`, { dispatcher, headers: { 'l5d-dst-override': `${WEB}:80` } });
        t.equal(res.statusCode, 200);
        return res.body.text();
      }),
    );
    for (const body of bodies) origins.add(body);
  }
  t.same([...origins].sort(), ['web-a', 'web-b'], 'both endpoints of the Service answered');
  t.notOk(
    seen.some((s) => s.headers['l5d-dst-override'] !== undefined),
    'no origin ever saw l5d-dst-override',
  );
  t.ok(seen.some((s) => s.name !== 'echo' && s.headers.host === 'anything.example'), 'the request Host is kept');

  const watches = mesh.policy.outboundRequests.filter((w) => w.authority === WEB_AUTHORITY);
  t.equal(watches.length, 1, 'one OutboundPolicies.Watch by authority, shared by every request and connection');
  t.equal(watches[0]?.addr, undefined, 'the TrafficSpec names the authority, not an address');
  t.ok(mesh.dst.requests.some((q) => q.method === 'GetProfile' && q.path === WEB_AUTHORITY), 'GetProfile by name (DESTINATION_PROFILE_SUFFIXES)');
  t.ok(mesh.dst.requests.some((q) => q.method === 'Get' && q.path === WEB_AUTHORITY), 'Destination.Get for the Service backend');

  const text = await mesh.proxy.metrics.render();
  t.match(text, /^outbound_http_route_request_statuses_total\{[^}]*parent_kind="Service",parent_namespace="test",parent_name="web"[^}]*http_status="200"/m, 'route metrics carry the named Service as parent');
  t.match(text, /^outbound_http_route_backend_requests_total\{[^}]*parent_name="web"[^}]*backend_name="web"/m, 'backend metrics too');
  t.match(text, /^outbound_http_route_backend_requests_total\{[^}]*parent_name="echo"/m, 'requests without the header count under the original destination');
});

t.test('a Service without a policy but with a profile: the profile balances over Destination.Get(fqn:port)', async (t) => {
  const seen: Seen[] = [];
  const a = await namedOrigin(t, 'web-a', seen);
  const mesh = await ingressMesh(t);
  mesh.policy.outbound(WEB_AUTHORITY).rejectWith = { code: grpc.status.NOT_FOUND, details: 'no policy' };
  mesh.dst.profileSender(WEB_AUTHORITY).publish({ fullyQualifiedName: WEB });
  mesh.dst.getSender(WEB_AUTHORITY).publish(addUpdate([weightedAddr('127.0.0.1', a)], { service: 'web', namespace: 'test' }));
  const res = await request(`http://127.0.0.1:${mesh.outboundPort}/`, { dispatcher: agent(t), headers: { 'l5d-dst-override': `${WEB}:80` } });
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), 'web-a');
  t.match(await mesh.proxy.metrics.render(), /^outbound_http_route_request_statuses_total\{parent_group="",parent_kind="default",parent_namespace="",parent_name="profile"/m, 'meta default/profile');
});

t.test('an override that is not a DNS name, or a name discovery does not know: the connection closes unanswered', async (t) => {
  const logger = new CaptureLogger();
  const mesh = await ingressMesh(t, ORIG, logger);
  mesh.policy.outbound('nope.test.svc.cluster.local:80').rejectWith = { code: grpc.status.NOT_FOUND, details: 'no policy' };
  mesh.dst.profileSender('nope.test.svc.cluster.local:80').rejectWith = { code: grpc.status.INVALID_ARGUMENT, details: 'not a service' };
  const url = `http://127.0.0.1:${mesh.outboundPort}/`;

  const invalid = await curl(['-i', '-H', 'l5d-dst-override: 10.1.2.3:80', url]);
  t.equal(invalid.code, 52, `curl: empty reply from server (${invalid.stderr.trim()})`);
  t.equal(invalid.stdout.length, 0, 'no response at all');
  t.ok(logger.closeReasons().includes('l5d-dst-override is not a valid host:port'), 'logged with upstream\'s message');

  const unknown = await curl(['-i', '-H', 'l5d-dst-override: nope.test.svc.cluster.local', url]);
  t.equal(unknown.code, 52, `curl: empty reply from server (${unknown.stderr.trim()})`);
  t.ok(logger.closeReasons().includes('ingress-mode routing requires discovery: nope.test.svc.cluster.local:80'), 'no policy and no profile');
});

t.test('no header and an original destination without a policy: the connection closes unanswered', async (t) => {
  const logger = new CaptureLogger();
  const mesh = await ingressMesh(t, socketAddr('10.43.0.77', 80), logger);
  mesh.policy.outbound('10.43.0.77:80').rejectWith = { code: grpc.status.NOT_FOUND, details: 'no policy' };
  const r = await curl(['-i', `http://127.0.0.1:${mesh.outboundPort}/`]);
  t.equal(r.code, 52, `curl: empty reply from server (${r.stderr.trim()})`);
  t.ok(logger.closeReasons().includes('ingress-mode fallback routing requires an HTTP policy for 10.43.0.77:80'));
});

t.test('a connection that is not HTTP is forwarded opaque by its original destination', async (t) => {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  t.teardown(() => echo.close());
  const port = (echo.address() as net.AddressInfo).port;
  const target = socketAddr('10.43.0.20', 5432);
  const mesh = await ingressMesh(t, target);
  // A Detect policy whose opaque route forwards to the echo server.
  mesh.policy.outbound('10.43.0.20:5432').publish(servicePolicy([forwardBackend(weightedAddr('127.0.0.1', port))]));

  const client = net.connect(mesh.outboundPort, '127.0.0.1');
  t.teardown(() => client.destroy());
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((r) => client.on('end', r));
  client.end('\x00\x01binary hello, not HTTP\n');
  await done;
  t.equal(Buffer.concat(chunks).toString('latin1'), '\x00\x01binary hello, not HTTP\n', 'echoed through the opaque route');
});

t.test('HTTP/2 from the app is served by its original destination', async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'x-origin': 'h2-echo' });
    stream.end('h2-echo');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const mesh = await ingressMesh(t);
  mesh.policy.outbound('10.43.0.10:80').publish(servicePolicy([balancerBackend()]));
  mesh.dst.getSender(SERVICE_PATH).publish(addUpdate([weightedAddr('127.0.0.1', port)]));
  const r = await curl(['--http2-prior-knowledge', '-i', `http://127.0.0.1:${mesh.outboundPort}/`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout.toString('latin1'), /^HTTP\/2 200 \r\n[^]*\r\n\r\nh2-echo$/);
});

interface H2Seen {
  readonly name: string;
  readonly headers: http2.IncomingHttpHeaders;
}

async function h2Origin(t: Test, name: string, seen: H2Seen[]): Promise<number> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    seen.push({ name, headers });
    stream.respond({ ':status': 200, 'x-origin': name });
    stream.end(name);
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

interface H2Answer {
  readonly status: number | undefined;
  readonly body: string;
  readonly rstCode: number;
}

function h2Get(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<H2Answer> {
  return new Promise((resolve) => {
    const req = session.request({ ':path': '/', ...headers });
    let status: number | undefined;
    let body = '';
    req.on('response', (h) => (status = h[':status']));
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('error', () => undefined);
    req.on('close', () => resolve({ status, body, rstCode: req.rstCode ?? 0 }));
    req.end();
  });
}

t.test('HTTP/2: each stream picks its target by l5d-dst-override, the header stripped; a bad one resets the stream', async (t) => {
  const seen: H2Seen[] = [];
  const a = await h2Origin(t, 'web-a', seen);
  const b = await h2Origin(t, 'web-b', seen);
  const orig = await h2Origin(t, 'echo', seen);
  const logger = new CaptureLogger();
  const mesh = await ingressMesh(t, ORIG, logger);
  publishWeb(mesh, [a, b]);
  mesh.policy.outbound('10.43.0.10:80').publish(servicePolicy([balancerBackend()]));
  mesh.dst.getSender(SERVICE_PATH).publish(addUpdate([weightedAddr('127.0.0.1', orig)]));
  const url = `http://127.0.0.1:${mesh.outboundPort}/hello`;

  const viaCurl = await curl(['--http2-prior-knowledge', '-i', '-H', `l5d-dst-override: ${WEB}:80`, url]);
  t.equal(viaCurl.code, 0, viaCurl.stderr);
  t.match(viaCurl.stdout.toString('latin1'), /^HTTP\/2 200 \r\n[^]*\r\n\r\nweb-[ab]$/, 'curl: answered by an endpoint of the named Service');
  const plain = await curl(['--http2-prior-knowledge', '-i', url]);
  t.equal(plain.code, 0, plain.stderr);
  t.match(plain.stdout.toString('latin1'), /\r\n\r\necho$/, 'curl without the header: the original destination');

  // One connection, streams for both targets.
  const session = http2.connect(`http://127.0.0.1:${mesh.outboundPort}`);
  session.on('error', () => undefined);
  t.teardown(() => session.destroy());
  const answers: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await h2Get(session, i % 2 === 1 ? {} : { 'l5d-dst-override': WEB });
    t.equal(r.status, 200);
    answers.push(r.body);
  }
  t.same(answers.filter((_, i) => i % 2 === 1), ['echo', 'echo', 'echo'], 'no header: the original destination');
  t.notOk(answers.some((x, i) => i % 2 === 0 && x === 'echo'), 'with the header: never the original destination');
  const origins = new Set<string>();
  for (let round = 0; round < 10 && origins.size < 2; round++) {
    const rs = await Promise.all(Array.from({ length: 16 }, () => h2Get(session, { 'l5d-dst-override': `${WEB}:80` })));
    for (const r of rs) origins.add(r.body);
  }
  t.same([...origins].sort(), ['web-a', 'web-b'], 'both endpoints of the Service answered');

  const bad = await h2Get(session, { 'l5d-dst-override': '10.1.2.3:80' });
  t.equal(bad.status, undefined, 'no response head');
  t.equal(bad.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR, 'the stream is reset with INTERNAL_ERROR (hyper, on a failed service)');
  t.ok(logger.find('HTTP/2 stream reset').some((l) => l.fields['error'] === 'l5d-dst-override is not a valid host:port'), 'logged with upstream\'s message');
  const after = await h2Get(session, { 'l5d-dst-override': WEB });
  t.equal(after.status, 200, 'the connection and its other streams go on');
  const badCurl = await curl(['--http2-prior-knowledge', '-i', '-H', 'l5d-dst-override: 10.1.2.3:80', url]);
  t.equal(badCurl.code, 92, `curl: stream not closed cleanly (${badCurl.stderr.trim()})`);
  t.match(badCurl.stderr, /INTERNAL_ERROR/);

  t.notOk(seen.some((s) => s.headers['l5d-dst-override'] !== undefined), 'no origin ever saw l5d-dst-override');
  t.equal(mesh.policy.outboundRequests.filter((w) => w.authority === WEB_AUTHORITY).length, 1, 'one watch by authority for every stream');
});

const identityCodec = (x: Buffer): Buffer => x;
const ECHO = {
  Echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identityCodec,
    requestDeserialize: identityCodec,
    responseSerialize: identityCodec,
    responseDeserialize: identityCodec,
  },
} satisfies grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo');

async function grpcOrigin(t: Test, name: string, seen: string[][]): Promise<number> {
  const server = new grpc.Server();
  server.addService(ECHO, {
    Echo: ((call, cb) => {
      seen.push(call.metadata.get('l5d-dst-override').map(String));
      cb(null, Buffer.from(name));
    }) satisfies grpc.handleUnaryCall<Buffer, Buffer>,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.teardown(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return port;
}

function echo(c: grpc.Client, override: string | undefined): Promise<{ code: number; body: string; details: string }> {
  const md = new grpc.Metadata();
  if (override !== undefined) md.set('l5d-dst-override', override);
  return new Promise((resolve) => {
    c.makeUnaryRequest<Buffer, Buffer>(ECHO.Echo.path, identityCodec, identityCodec, Buffer.from('hi'), md, { deadline: Date.now() + 5000 }, (err, res) => {
      if (err) resolve({ code: err.code, body: '', details: err.details });
      else resolve({ code: 0, body: res?.toString() ?? '', details: '' });
    });
  });
}

t.test('gRPC: the override in metadata picks the Service; without one, an orig dst without a policy resets the call', async (t) => {
  const seen: string[][] = [];
  const a = await grpcOrigin(t, 'web-a', seen);
  const b = await grpcOrigin(t, 'web-b', seen);
  const logger = new CaptureLogger();
  const mesh = await ingressMesh(t, socketAddr('10.43.0.77', 80), logger);
  mesh.policy.outbound('10.43.0.77:80').rejectWith = { code: grpc.status.NOT_FOUND, details: 'no policy' };
  publishWeb(mesh, [a, b]);
  const c = new EchoClient(`127.0.0.1:${mesh.outboundPort}`, grpc.credentials.createInsecure());
  t.teardown(() => c.close());

  const bodies = new Set<string>();
  for (let round = 0; round < 10 && bodies.size < 2; round++) {
    const rs = await Promise.all(Array.from({ length: 8 }, () => echo(c, WEB_AUTHORITY)));
    for (const r of rs) {
      t.equal(r.code, grpc.status.OK, r.details);
      bodies.add(r.body);
    }
  }
  t.same([...bodies].sort(), ['web-a', 'web-b'], 'both endpoints of the named Service answered');
  t.ok(seen.length > 0 && seen.every((v) => v.length === 0), 'no origin saw the override in its metadata');

  const fallback = await echo(c, undefined);
  t.equal(fallback.code, grpc.status.INTERNAL, `no override, no policy for the orig dst: reset (${fallback.details})`);
  t.match(fallback.details, /RST_STREAM with code 2/);
  t.ok(logger.find('HTTP/2 stream reset').some((l) => l.fields['error'] === 'ingress-mode fallback routing requires an HTTP policy for 10.43.0.77:80'));
  const invalid = await echo(c, '[::1]:80');
  t.equal(invalid.code, grpc.status.INTERNAL, `an IP override: reset (${invalid.details})`);
  const again = await echo(c, WEB);
  t.equal(again.code, grpc.status.OK, 'the channel still works');
});
