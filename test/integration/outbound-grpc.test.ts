// gRPC through the real proxy's outbound HTTP/2 server (spec §5.5, §4.7): a @grpc/grpc-js client and
// servers, GRPCRoute matching by method, per-call balancing, retries on UNAVAILABLE, route timeouts
// and the proxy's own answers as gRPC statuses.
import * as grpc from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { socketAddr } from '../../src/transport/index.js';
import { duration, type Wire } from '../support/control-plane-codec.js';
import { meshedProxy, type MeshedProxy } from '../support/meshed-proxy.js';
import { addUpdate, balancerBackend, serviceMeta, weightedAddr } from '../support/outbound-wire.js';
import { TestPki } from '../support/pki.js';
import { TEST_SERVER_NAME, testCredentials } from '../support/proxy-env.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);
const CLUSTER_IP = socketAddr('10.43.0.30', 8080);
const CLUSTER_KEY = '10.43.0.30:8080';
const PATH_A = 'a.test.svc.cluster.local:8080';
const PATH_B = 'b.test.svc.cluster.local:8080';

const identity = (b: Buffer): Buffer => b;
function method(name: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/test.Echo/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}
const SERVICE = { Echo: method('Echo'), Other: method('Other') } satisfies grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(SERVICE, 'Echo');

type Handler = (name: string, req: Buffer) => Promise<Buffer | grpc.ServiceError> | Buffer | grpc.ServiceError;

interface Backend {
  readonly port: number;
  readonly calls: string[];
}

/**
 * A gRPC server answering both methods with `handler` (an Error with a `code` fails the call).
 * With `headersFirst` response metadata goes out before the answer, so a failure's status is in
 * trailers after a HEADERS frame rather than a trailers-only response.
 */
async function grpcServer(t: Test, handler: Handler, headersFirst = false): Promise<Backend> {
  const server = new grpc.Server();
  const calls: string[] = [];
  const impl = (name: string): grpc.handleUnaryCall<Buffer, Buffer> => (call, cb) => {
    calls.push(name);
    if (headersFirst) call.sendMetadata(new grpc.Metadata());
    void Promise.resolve(handler(name, call.request)).then((r) => (r instanceof Error ? cb(r) : cb(null, r)));
  };
  server.addService(SERVICE, { Echo: impl('Echo'), Other: impl('Other') });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.teardown(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return { port, calls };
}

function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

function client(t: Test, port: number): grpc.Client {
  const c = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.teardown(() => c.close());
  return c;
}

interface CallResult {
  readonly code: number;
  readonly body: string;
  readonly details: string;
}

function call(c: grpc.Client, name: 'Echo' | 'Other', body = 'hi', deadlineMs = 5000): Promise<CallResult> {
  return new Promise((resolve) => {
    const fn = (c as unknown as Record<string, (...a: unknown[]) => void>)[name]!;
    fn.call(c, Buffer.from(body), new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, res?: Buffer) => {
      if (err !== null) resolve({ code: err.code, body: '', details: err.details });
      else resolve({ code: 0, body: res!.toString(), details: '' });
    });
  });
}

function rule(matches: Wire[], path: string, extra: Wire = {}, queue: { failfastMs?: number } = {}): Wire {
  return { matches, backends: { firstAvailable: { backends: [{ backend: balancerBackend(path, queue, path.split('.')[0]) }] } }, ...extra };
}

function grpcPolicy(rules: Wire[]): Wire {
  return { metadata: serviceMeta('grpc-svc'), protocol: { grpc: { routes: [{ metadata: { default: 'grpc' }, rules }] } } };
}

const rpc = (m?: string): Wire => ({ rpc: { service: 'test.Echo', ...(m !== undefined ? { method: m } : {}) } });

async function mesh(t: Test, policy: Wire, env: Record<string, string> = {}): Promise<MeshedProxy> {
  const m = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP, env });
  m.policy.outbound(CLUSTER_KEY).publish(policy);
  return m;
}

function metricValue(text: string, name: string, labelPart = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(labelPart)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

t.test('calls are balanced per request over the backend endpoints', async (t) => {
  const one = await grpcServer(t, () => Buffer.from('one'));
  const two = await grpcServer(t, () => Buffer.from('two'));
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', one.port), weightedAddr('127.0.0.1', two.port)]));
  const c = client(t, m.outboundPort);
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const r = await call(c, 'Echo', `n${i}`);
    t.equal(r.code, 0, `call ${i} succeeded`);
    seen.add(r.body);
  }
  t.same([...seen].sort(), ['one', 'two'], 'both endpoints answered calls of one client connection');
  t.equal(one.calls.length + two.calls.length, 40);
  const text = await m.proxy.metrics.render();
  t.equal(metricValue(text, 'outbound_http_route_request_statuses_total', 'http_status="200"'), 40, 'route statuses counted');
  t.ok((metricValue(text, 'request_total', `target_port="${one.port}"`) ?? 0) > 0, 'per-endpoint request_total');
});

t.test('a GRPCRoute rule per method sends each method to its own backend', async (t) => {
  const a = await grpcServer(t, (name) => Buffer.from(`a:${name}`));
  const b = await grpcServer(t, (name) => Buffer.from(`b:${name}`));
  const m = await mesh(t, grpcPolicy([rule([rpc('Echo')], PATH_A), rule([rpc('Other')], PATH_B)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  m.dst.getSender(PATH_B).publish(addUpdate([weightedAddr('127.0.0.1', b.port)]));
  const c = client(t, m.outboundPort);
  t.same(await call(c, 'Echo'), { code: 0, body: 'a:Echo', details: '' });
  t.same(await call(c, 'Other'), { code: 0, body: 'b:Other', details: '' });
  t.same(a.calls, ['Echo']);
  t.same(b.calls, ['Other']);
});

t.test('a method no route matches gets NOT_FOUND from the proxy', async (t) => {
  const a = await grpcServer(t, () => Buffer.from('a'));
  const m = await mesh(t, grpcPolicy([rule([rpc('Echo')], PATH_A)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  const c = client(t, m.outboundPort);
  const r = await call(c, 'Other');
  t.equal(r.code, grpc.status.NOT_FOUND);
  t.equal(r.details, 'no route', 'grpc-message carries the reason');
  t.same(a.calls, []);
  t.equal((await call(c, 'Echo')).code, 0, 'the connection still serves routed calls');
});

t.test('UNAVAILABLE is retried by the route policy and the call succeeds', async (t) => {
  let n = 0;
  const a = await grpcServer(t, () => (n++ === 0 ? grpcError(grpc.status.UNAVAILABLE, 'first attempt fails') : Buffer.from('second')));
  const retry = { retry: { maxRetries: 2, maxRequestBytes: 65536, conditions: { unavailable: true } } };
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A, retry)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  const r = await call(client(t, m.outboundPort), 'Echo', 'payload');
  t.same(r, { code: 0, body: 'second', details: '' }, 'the retried attempt answered');
  t.equal(a.calls.length, 2, 'two attempts reached the server');
  const text = await m.proxy.metrics.render();
  t.equal(metricValue(text, 'outbound_http_route_retry_requests_total'), 1);
  t.equal(metricValue(text, 'outbound_http_route_retry_successes_total'), 1);
});

t.test('a status in trailers after the response headers is retried too (the trailers are peeked)', async (t) => {
  let n = 0;
  const a = await grpcServer(t, () => (n++ === 0 ? grpcError(grpc.status.UNAVAILABLE, 'first attempt fails') : Buffer.from('second')), true);
  const retry = { retry: { maxRetries: 1, maxRequestBytes: 65536, conditions: { unavailable: true } } };
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A, retry)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  const r = await call(client(t, m.outboundPort), 'Echo', 'payload');
  t.same(r, { code: 0, body: 'second', details: '' });
  t.equal(a.calls.length, 2);
});

t.test('when retries run out the last UNAVAILABLE reaches the client', async (t) => {
  const a = await grpcServer(t, () => grpcError(grpc.status.UNAVAILABLE, 'always down'));
  const retry = { retry: { maxRetries: 2, maxRequestBytes: 65536, conditions: { unavailable: true } } };
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A, retry)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  const r = await call(client(t, m.outboundPort), 'Echo');
  t.same(r, { code: grpc.status.UNAVAILABLE, body: '', details: 'always down' });
  t.equal(a.calls.length, 3, 'max_retries 2 ⇒ three attempts');
  const text = await m.proxy.metrics.render();
  t.equal(metricValue(text, 'outbound_http_route_retry_limit_exceeded_total'), 1);
});

t.test('a meshed endpoint: the call crosses mTLS HTTP/2 to the peer proxy and its gRPC server', async (t) => {
  const a = await grpcServer(t, (_name, req) => Buffer.from(`meshed:${req.toString()}`));
  const server = socketAddr('127.0.0.1', a.port);
  const b = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => server, inbound: () => server });
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', b.inboundPort, { dnsIdentity: TEST_SERVER_NAME, h2: true })]));
  const c = client(t, m.outboundPort);
  t.same(await call(c, 'Echo', 'x'), { code: 0, body: 'meshed:x', details: '' });
  t.same(await call(c, 'Other', 'y'), { code: 0, body: 'meshed:y', details: '' }, 'the shared session carries the next call');
  const text = await m.proxy.metrics.render();
  t.ok((metricValue(text, 'request_total', 'tls="true"') ?? 0) >= 2, 'counted as mTLS endpoint requests');
});

t.test('codes outside the retry conditions are relayed as they are', async (t) => {
  const a = await grpcServer(t, () => grpcError(grpc.status.INVALID_ARGUMENT, 'bad input'));
  const retry = { retry: { maxRetries: 2, maxRequestBytes: 65536, conditions: { unavailable: true } } };
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A, retry)]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  const r = await call(client(t, m.outboundPort), 'Echo');
  t.same(r, { code: grpc.status.INVALID_ARGUMENT, body: '', details: 'bad input' });
  t.equal(a.calls.length, 1);
});

t.test('a route request timeout ends a slow call with DEADLINE_EXCEEDED', async (t) => {
  const a = await grpcServer(t, () => new Promise<Buffer>((r) => setTimeout(() => r(Buffer.from('late')), 2000)));
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A, { timeouts: { request: duration(200) } })]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  const started = Date.now();
  const r = await call(client(t, m.outboundPort), 'Echo', 'x', 10_000);
  t.equal(r.code, grpc.status.DEADLINE_EXCEEDED);
  t.match(r.details, /timed out after 200ms/);
  t.ok(Date.now() - started < 1500, 'answered at the route deadline, not the server’s pace');
});

t.test('a backend without endpoints fails fast: DEADLINE_EXCEEDED (spec §4.7 fail-fast)', async (t) => {
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A, {}, { failfastMs: 300 })]));
  const started = Date.now();
  const r = await call(client(t, m.outboundPort), 'Echo');
  t.equal(r.code, grpc.status.DEADLINE_EXCEEDED);
  t.match(r.details, /fail-fast|failfast/i);
  t.ok(Date.now() - started >= 250, 'after the queue’s failfast timeout');
  const text = await m.proxy.metrics.render();
  t.equal(metricValue(text, 'outbound_http_errors_total', 'error="failfast"'), 1);
});

t.test('a failure-injector filter on a GRPCRoute answers with its configured code', async (t) => {
  const a = await grpcServer(t, () => Buffer.from('a'));
  const filters = [{ failureInjector: { code: grpc.status.RESOURCE_EXHAUSTED, message: 'injected by policy' } }];
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A, { filters })]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  const r = await call(client(t, m.outboundPort), 'Echo');
  t.same(r, { code: grpc.status.RESOURCE_EXHAUSTED, body: '', details: 'injected by policy' });
  t.same(a.calls, [], 'the server never saw the call');
});

t.test('OUTBOUND_MAX_IN_FLIGHT sheds calls beyond it with UNAVAILABLE', async (t) => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const a = await grpcServer(t, async () => {
    await gate;
    return Buffer.from('slow');
  });
  const m = await mesh(t, grpcPolicy([rule([rpc()], PATH_A)]), { LINKERD2_PROXY_OUTBOUND_MAX_IN_FLIGHT: '1' });
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', a.port)]));
  const first = call(client(t, m.outboundPort), 'Echo');
  while (a.calls.length === 0) await new Promise((r) => setTimeout(r, 10));
  const second = await call(client(t, m.outboundPort), 'Echo');
  t.equal(second.code, grpc.status.UNAVAILABLE, 'the second call is shed');
  t.match(second.details, /in-flight request limit/);
  release();
  t.equal((await first).code, 0, 'the call holding the slot completes');
});
