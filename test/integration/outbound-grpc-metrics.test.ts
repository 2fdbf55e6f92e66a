// gRPC responses in the legacy response_total family (spec §8.2) through real proxies: a
// @grpc/grpc-js client and servers; classification by grpc-status from a trailers-only answer or
// from trailers after messages, in both directions, and failure accrual counting a gRPC failure
// inside an HTTP 200.
import * as grpc from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { socketAddr } from '../../src/transport/index.js';
import { duration, type Wire } from '../support/control-plane-codec.js';
import { meshedProxy, type MeshedProxy } from '../support/meshed-proxy.js';
import { addUpdate, balancerBackend, serviceMeta, servicePolicy, weightedAddr } from '../support/outbound-wire.js';
import { TestPki } from '../support/pki.js';
import { TEST_SERVER_NAME, testCredentials } from '../support/proxy-env.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const { ca, creds } = testCredentials(pki);
const CLUSTER_IP = socketAddr('10.43.0.31', 8080);
const CLUSTER_KEY = '10.43.0.31:8080';
const PATH_A = 'a.test.svc.cluster.local:8080';
const PATH_B = 'b.test.svc.cluster.local:8080';

const identity = (b: Buffer): Buffer => b;
const SERVICE = {
  Echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  Stream: {
    path: '/test.Echo/Stream',
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(SERVICE, 'Echo');

function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

interface Server {
  readonly port: number;
  readonly calls: string[];
}

/**
 * Echo answers with `unary` (an Error fails the call: a trailers-only response); Stream writes
 * one message, then ends with `streamEnd` in the trailers.
 */
async function grpcServer(t: Test, unary: () => Buffer | grpc.ServiceError, streamEnd: grpc.ServiceError | undefined = undefined): Promise<Server> {
  const server = new grpc.Server();
  const calls: string[] = [];
  server.addService(SERVICE, {
    Echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      calls.push('Echo');
      const r = unary();
      if (r instanceof Error) cb(r);
      else cb(null, r);
    },
    Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      calls.push('Stream');
      call.write(Buffer.from('first'));
      if (streamEnd === undefined) call.end();
      else call.emit('error', streamEnd);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.teardown(() => new Promise<void>((r) => server.tryShutdown(() => r())));
  return { port, calls };
}

function client(t: Test, port: number): grpc.Client {
  const c = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.teardown(() => c.close());
  return c;
}

function unaryCall(c: grpc.Client): Promise<number> {
  return new Promise((resolve) => {
    c.makeUnaryRequest('/test.Echo/Echo', identity, identity, Buffer.from('hi'), new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err) =>
      resolve(err === null ? 0 : err.code),
    );
  });
}

function streamCall(c: grpc.Client): Promise<{ code: number; messages: number }> {
  return new Promise((resolve) => {
    const s = c.makeServerStreamRequest('/test.Echo/Stream', identity, identity, Buffer.from('hi'), new grpc.Metadata(), { deadline: Date.now() + 5000 });
    let messages = 0;
    s.on('data', () => messages++);
    s.on('error', () => undefined);
    s.on('status', (st: grpc.StatusObject) => resolve({ code: st.code, messages }));
  });
}

function grpcPolicy(rules: Wire[], failureAccrual?: Wire): Wire {
  return {
    metadata: serviceMeta('grpc-svc'),
    protocol: { grpc: { routes: [{ metadata: { default: 'grpc' }, rules }], ...(failureAccrual !== undefined ? { failureAccrual } : {}) } },
  };
}

function rule(paths: readonly string[]): Wire {
  const backends = paths.map((p) => ({ backend: balancerBackend(p, {}, p.split('.')[0]) }));
  return { matches: [{ rpc: { service: 'test.Echo' } }], backends: { firstAvailable: { backends } } };
}

async function mesh(t: Test, policy: Wire): Promise<MeshedProxy> {
  const m = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => CLUSTER_IP });
  m.policy.outbound(CLUSTER_KEY).publish(policy);
  return m;
}

/** The response_total value of `direction`'s series for an endpoint port with these class labels. */
async function responses(m: MeshedProxy, direction: 'inbound' | 'outbound', port: number, classLabels: string): Promise<number | undefined> {
  const text = await m.proxy.metrics.render();
  for (const line of text.split('\n')) {
    if (!line.startsWith('response_total{') || !line.includes(`direction="${direction}"`) || !line.includes(`target_port="${port}"`)) continue;
    if (!line.includes(`,${classLabels}} `)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * The value once it reaches `want` (within 2s), else the last seen: an attempt is closed when the
 * endpoint's stream is, which may trail the client's answer.
 */
async function settled(m: MeshedProxy, direction: 'inbound' | 'outbound', port: number, classLabels: string, want: number): Promise<number | undefined> {
  const until = Date.now() + 2000;
  for (;;) {
    const v = await responses(m, direction, port, classLabels);
    if (v === want || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

const OK = 'status_code="200",classification="success",grpc_status="0",error=""';
const UNAVAILABLE = 'status_code="200",classification="failure",grpc_status="14",error=""';
const INTERNAL = 'status_code="200",classification="failure",grpc_status="13",error=""';
const NOT_FOUND = 'status_code="200",classification="success",grpc_status="5",error=""';

t.test('outbound: an OK call succeeds with grpc_status="0"', async (t) => {
  const ok = await grpcServer(t, () => Buffer.from('ok'));
  const m = await mesh(t, grpcPolicy([rule([PATH_A])]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', ok.port)]));
  const c = client(t, m.outboundPort);
  t.equal(await unaryCall(c), 0);
  t.equal(await unaryCall(c), 0);
  t.equal(await settled(m, 'outbound', ok.port, OK, 2), 2);
  t.equal(await responses(m, 'outbound', ok.port, 'status_code="200",classification="success",grpc_status="",error=""'), undefined, 'no HTTP-only series');
});

t.test('outbound: UNAVAILABLE (trailers-only) and INTERNAL after a message (trailers) fail', async (t) => {
  const down = await grpcServer(t, () => grpcError(grpc.status.UNAVAILABLE, 'down'), grpcError(grpc.status.INTERNAL, 'broke'));
  const m = await mesh(t, grpcPolicy([rule([PATH_A])]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', down.port)]));
  const c = client(t, m.outboundPort);
  t.equal(await unaryCall(c), grpc.status.UNAVAILABLE);
  t.equal(await settled(m, 'outbound', down.port, UNAVAILABLE, 1), 1, 'a trailers-only UNAVAILABLE inside HTTP 200 fails');
  t.same(await streamCall(c), { code: grpc.status.INTERNAL, messages: 1 }, 'a message, then INTERNAL in the trailers');
  t.equal(await settled(m, 'outbound', down.port, INTERNAL, 1), 1, 'the trailers’ status classifies the stream');
  t.equal(await responses(m, 'outbound', down.port, 'status_code="200",classification="success",grpc_status="",error=""'), undefined);
});

t.test('outbound: NOT_FOUND is an answer, a success', async (t) => {
  const missing = await grpcServer(t, () => grpcError(grpc.status.NOT_FOUND, 'no such thing'));
  const m = await mesh(t, grpcPolicy([rule([PATH_A])]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', missing.port)]));
  const c = client(t, m.outboundPort);
  t.equal(await unaryCall(c), grpc.status.NOT_FOUND);
  t.equal(await settled(m, 'outbound', missing.port, NOT_FOUND, 1), 1);
  t.equal(await responses(m, 'outbound', missing.port, 'status_code="200",classification="failure",grpc_status="5",error=""'), undefined);
});

t.test('outbound: gRPC over an HTTPRoute is classified by its application/grpc content-type', async (t) => {
  const down = await grpcServer(t, () => grpcError(grpc.status.UNAVAILABLE, 'down'));
  const m = await mesh(t, servicePolicy([balancerBackend(PATH_A, {}, 'a')]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', down.port)]));
  const c = client(t, m.outboundPort);
  t.equal(await unaryCall(c), grpc.status.UNAVAILABLE);
  t.equal(await unaryCall(c), grpc.status.UNAVAILABLE);
  t.equal(await settled(m, 'outbound', down.port, UNAVAILABLE, 2), 2);
  t.equal(await responses(m, 'outbound', down.port, 'status_code="200",classification="success",grpc_status="",error=""'), undefined, 'not an HTTP 200 success');
});

t.test('failure accrual counts a gRPC failure inside an HTTP 200: the next call goes to the other backend', async (t) => {
  const bad = await grpcServer(t, () => grpcError(grpc.status.UNAVAILABLE, 'down'));
  const good = await grpcServer(t, () => Buffer.from('ok'));
  const accrual = { consecutiveFailures: { maxFailures: 1, backoff: { minBackoff: duration(60_000), maxBackoff: duration(60_000), jitterRatio: 0 } } };
  const m = await mesh(t, grpcPolicy([rule([PATH_A, PATH_B])], accrual));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', bad.port)]));
  m.dst.getSender(PATH_B).publish(addUpdate([weightedAddr('127.0.0.1', good.port)]));
  const c = client(t, m.outboundPort);
  t.equal(await unaryCall(c), grpc.status.UNAVAILABLE, 'the first backend answers first');
  t.equal(await settled(m, 'outbound', bad.port, UNAVAILABLE, 1), 1);
  for (let i = 0; i < 5; i++) t.equal(await unaryCall(c), 0, `call ${i + 2} went to the second backend`);
  t.equal(bad.calls.length, 1, 'the failing endpoint was ejected after one UNAVAILABLE');
  t.equal(good.calls.length, 5);
});

t.test('inbound: the peer proxy classifies the calls it serves alike', async (t) => {
  const server = await grpcServer(t, () => grpcError(grpc.status.UNAVAILABLE, 'down'), grpcError(grpc.status.INTERNAL, 'broke'));
  const okServer = await grpcServer(t, () => Buffer.from('ok'));
  let target = socketAddr('127.0.0.1', server.port);
  const b = await meshedProxy(t, { trustAnchorsPem: ca.certPem, creds, outbound: () => target, inbound: () => target });
  const m = await mesh(t, grpcPolicy([rule([PATH_A])]));
  m.dst.getSender(PATH_A).publish(addUpdate([weightedAddr('127.0.0.1', b.inboundPort, { dnsIdentity: TEST_SERVER_NAME, h2: true })]));
  const c = client(t, m.outboundPort);
  t.equal(await unaryCall(c), grpc.status.UNAVAILABLE);
  t.same(await streamCall(c), { code: grpc.status.INTERNAL, messages: 1 });
  t.equal(await settled(b, 'inbound', server.port, UNAVAILABLE, 1), 1, 'inbound: trailers-only UNAVAILABLE fails');
  t.equal(await settled(b, 'inbound', server.port, INTERNAL, 1), 1, 'inbound: INTERNAL in trailers fails');
  t.equal(await settled(m, 'outbound', b.inboundPort, UNAVAILABLE, 1), 1, 'outbound over mTLS alike');
  t.equal(await settled(m, 'outbound', b.inboundPort, INTERNAL, 1), 1);

  // A plaintext gRPC client straight at the inbound listener.
  target = socketAddr('127.0.0.1', okServer.port);
  const direct = client(t, b.inboundPort);
  t.equal(await unaryCall(direct), 0);
  t.equal(await settled(b, 'inbound', okServer.port, OK, 1), 1, 'inbound: an OK call succeeds with grpc_status="0"');
});
