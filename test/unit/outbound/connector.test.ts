// The endpoint connector over real sockets: plaintext and local endpoints, loopback refusal, mTLS, opaque transport headers.
import t, { type Test } from 'tap';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { bareEndpoint, type DestinationEndpoint } from '../../../src/discovery/index.js';
import type { EndpointConnection } from '../../../src/outbound/context.js';
import { createEndpointConnector } from '../../../src/outbound/endpoint/connector.js';
import { LoopbackRefusedError } from '../../../src/outbound/endpoint/errors.js';
import { PeerIdentityMismatch, TlsHandshakeTimeout } from '../../../src/tls/errors.js';
import { ConnectError, socketAddr } from '../../../src/transport/index.js';
import { TestPki } from '../../support/pki.js';
import { credentialsFromLeaf } from '../../support/static-identity.js';
import { until } from '../control/helpers/test-clock.js';
import { closedPort, countingEcho, echoOnce, testConfig, testRuntime } from './helpers/runtime.js';
import { tlsPeer } from './helpers/tls-peer.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const ca = pki.root();
const CLIENT_ID = 'web.test.serviceaccount.identity.linkerd.cluster.local';
const PEER_ID = 'db.test.serviceaccount.identity.linkerd.cluster.local';
const clientCreds = credentialsFromLeaf(pki.leaf(ca, { dns: [CLIENT_ID] }), { trustAnchors: ca });
const peerLeaf = pki.leaf(ca, { dns: [PEER_ID] });
const config = testConfig(ca.certPem);

function endpoint(port: number, extra: Partial<DestinationEndpoint> = {}): DestinationEndpoint {
  return { ...bareEndpoint(socketAddr('127.0.0.1', port)), ...extra };
}

const meshed = { tlsIdentity: { kind: 'dns', name: PEER_ID, serverName: PEER_ID } } as const;

function cleanup(t: Test, conn: EndpointConnection): void {
  t.teardown(() => {
    conn.socket.destroy();
    conn.tcp.destroy();
  });
}

t.test('no identity: plain TCP, not provided by service discovery', async (t) => {
  const echo = await countingEcho(t);
  const connector = createEndpointConnector(testRuntime({ config: config.outbound, creds: clientCreds }), { allowLoopback: true });
  const conn = await connector.connect(endpoint(echo.port), { kind: 'opaque', origPort: echo.port });
  cleanup(t, conn);
  t.equal(conn.socket, conn.tcp, 'the stream is the TCP socket');
  t.same(conn.tls, { kind: 'none', reason: 'not_provided_by_service_discovery' });
  t.equal(await echoOnce(conn.socket, 'plain'), 'plain');
});

t.test('an endpoint on one of our own IPs is local: plaintext to its own port despite identity and opaque transport', async (t) => {
  const echo = await countingEcho(t);
  const rt = testRuntime({ config: config.outbound, creds: clientCreds, localIps: ['127.0.0.1'] });
  const connector = createEndpointConnector(rt, { allowLoopback: true });
  const conn = await connector.connect(endpoint(echo.port, { ...meshed, opaqueTransportPort: await closedPort() }), { kind: 'opaque', origPort: echo.port });
  cleanup(t, conn);
  t.same(conn.tls, { kind: 'none', reason: 'loopback' });
  t.equal(await echoOnce(conn.socket, 'local bytes'), 'local bytes', 'no TLS, no header');
});

t.test('outbound never dials loopback unless allowed', async (t) => {
  const echo = await countingEcho(t);
  const connector = createEndpointConnector(testRuntime({ config: config.outbound, creds: clientCreds }));
  const err = await connector.connect(endpoint(echo.port), { kind: 'opaque', origPort: echo.port }).catch((e: unknown) => e);
  t.ok(err instanceof LoopbackRefusedError && err instanceof ConnectError, 'a typed connect error');
  t.match(err, { code: 'ECONNREFUSED', message: /Outbound proxy cannot initiate connections on the loopback interface/ });
  const viaOpaquePort = await connector.connect(endpoint(echo.port, { ...meshed, opaqueTransportPort: echo.port }), { kind: 'http1' }).catch((e: unknown) => e);
  t.ok(viaOpaquePort instanceof LoopbackRefusedError, 'the opaque transport port is checked too');
  await new Promise((r) => setTimeout(r, 20));
  t.equal(echo.accepted, 0, 'nothing was dialled');
});

t.test('opaque transport: mTLS to the inbound port, ALPN transport.l5d.io/v1, then the header naming the real port', async (t) => {
  const peer = await tlsPeer(t, peerLeaf, ca, { transportHeader: true });
  const connector = createEndpointConnector(testRuntime({ config: config.outbound, creds: clientCreds }), { allowLoopback: true });
  const appPort = await closedPort();
  const ep = endpoint(appPort, { ...meshed, opaqueTransportPort: peer.port });

  const conn = await connector.connect(ep, { kind: 'opaque', origPort: 80 });
  cleanup(t, conn);
  t.same(conn.tls, { kind: 'established', serverId: PEER_ID });
  t.equal(await echoOnce(conn.socket, 'opaque bytes'), 'opaque bytes');
  await until(() => peer.sessions.length === 1, 'the session');
  t.same(peer.sessions[0], {
    servername: PEER_ID,
    alpn: 'transport.l5d.io/v1',
    clientSan: `DNS:${CLIENT_ID}`,
    header: { port: appPort },
    firstBytes: 'opaque bytes',
  }, 'SNI, ALPN, our client certificate; the header has the endpoint port and no session protocol');

  const h1 = await connector.connect(ep, { kind: 'http1' });
  cleanup(t, h1);
  await echoOnce(h1.socket, 'GET / HTTP/1.1\r\n\r\n');
  const hinted = await connector.connect({ ...ep, protocolHint: 'opaque' }, { kind: 'http2' });
  cleanup(t, hinted);
  await echoOnce(hinted.socket, 'PRI * HTTP/2.0');
  const gateway = await connector.connect({ ...ep, authorityOverride: 'web.remote.svc.cluster.local:8080' }, { kind: 'http2' });
  cleanup(t, gateway);
  await echoOnce(gateway.socket, 'via gateway');
  await until(() => peer.sessions.length === 4, 'the other sessions');
  t.same(peer.sessions.slice(1).map((s) => s.header), [
    { port: appPort, sessionProtocol: 'http1' },
    { port: appPort },
    { port: 8080, name: 'web.remote.svc.cluster.local', sessionProtocol: 'http2' },
  ], 'HTTP sessions name their protocol unless the endpoint is hinted opaque; an authority override names the gateway target');
});

t.test('a peer that does not select ALPN transport.l5d.io/v1 gets no header', async (t) => {
  const peer = await tlsPeer(t, peerLeaf, ca, { transportHeader: false });
  const connector = createEndpointConnector(testRuntime({ config: config.outbound, creds: clientCreds }), { allowLoopback: true });
  const conn = await connector.connect(endpoint(await closedPort(), { ...meshed, opaqueTransportPort: peer.port }), { kind: 'opaque', origPort: 80 });
  cleanup(t, conn);
  t.equal(await echoOnce(conn.socket, 'raw stream'), 'raw stream');
  await until(() => peer.sessions.length === 1, 'the session');
  t.match(peer.sessions[0], { alpn: false, header: undefined, firstBytes: 'raw stream' });
});

t.test('mTLS without opaque transport: no ALPN, the endpoint port itself', async (t) => {
  const peer = await tlsPeer(t, peerLeaf, ca, { transportHeader: true });
  const connector = createEndpointConnector(testRuntime({ config: config.outbound, creds: clientCreds }), { allowLoopback: true });
  const conn = await connector.connect(endpoint(peer.port, meshed), { kind: 'http1' });
  cleanup(t, conn);
  t.equal(await echoOnce(conn.socket, 'no alpn'), 'no alpn');
  await until(() => peer.sessions.length === 1, 'the session');
  t.match(peer.sessions[0], { servername: PEER_ID, alpn: false, header: undefined });
});

t.test('a peer whose certificate does not carry the discovered identity is refused', async (t) => {
  const peer = await tlsPeer(t, peerLeaf, ca, { transportHeader: true });
  const connector = createEndpointConnector(testRuntime({ config: config.outbound, creds: clientCreds }), { allowLoopback: true });
  const wrong = { tlsIdentity: { kind: 'dns', name: 'other.test.serviceaccount.identity.linkerd.cluster.local', serverName: PEER_ID } } as const;
  const err = await connector.connect(endpoint(peer.port, wrong), { kind: 'opaque', origPort: 80 }).catch((e: unknown) => e);
  t.ok(err instanceof PeerIdentityMismatch, 'PeerIdentityMismatch');
  t.match(err, { expected: 'other.test.serviceaccount.identity.linkerd.cluster.local', presented: [PEER_ID] });
  t.equal(peer.sessions.length, 0, 'no byte reached the peer');
});

t.test('OUTBOUND_CONNECT_TIMEOUT bounds the TLS handshake; an abort stops it', async (t) => {
  const silent = net.createServer((s) => s.on('error', () => undefined));
  const held = new Set<net.Socket>();
  silent.on('connection', (s) => held.add(s));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.teardown(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });
  const port = (silent.address() as net.AddressInfo).port;
  const rt = testRuntime({ config: { ...config.outbound, connect: { ...config.outbound.connect, timeoutMs: 200 } }, creds: clientCreds });
  const connector = createEndpointConnector(rt, { allowLoopback: true });
  const started = Date.now();
  const timedOut = await connector.connect(endpoint(port, meshed), { kind: 'opaque', origPort: 80 }).catch((e: unknown) => e);
  t.ok(timedOut instanceof TlsHandshakeTimeout, 'the handshake times out');
  t.ok(Date.now() - started < 1000, 'within the connect timeout');

  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const aborted = await createEndpointConnector(testRuntime({ config: config.outbound, creds: clientCreds }), { allowLoopback: true })
    .connect(endpoint(port, meshed), { kind: 'opaque', origPort: 80 }, ac.signal)
    .catch((e: unknown) => e);
  t.ok(aborted instanceof ConnectError, 'a ConnectError');
  t.match(aborted, { code: 'connect-aborted' });
});

t.test('an HTTP/2 session can take over a socket the moment the header is written (no write still queued)', async (t) => {
  const peer = await tlsPeer(t, peerLeaf, ca, { transportHeader: true });
  const connector = createEndpointConnector(testRuntime({ config: config.outbound, creds: clientCreds }), { allowLoopback: true });
  const ep = endpoint(await closedPort(), { ...meshed, protocolHint: 'h2', opaqueTransportPort: peer.port });
  for (let i = 0; i < 20; i++) {
    const conn = await connector.connect(ep, { kind: 'http2' });
    cleanup(t, conn);
    // node:http2 binds to the socket's handle; a TLS write still pending then would abort the process.
    const session = http2.connect('http://peer', { createConnection: () => conn.socket });
    session.on('error', () => undefined);
    const req = session.request({ ':path': '/' });
    req.on('error', () => undefined);
    req.end();
    await until(() => peer.sessions.length === i + 1, 'the session');
    session.destroy();
  }
  t.same(new Set(peer.sessions.map((s) => s.header?.sessionProtocol)), new Set(['http2']), 'every session named HTTP/2 after the header');
  t.ok(peer.sessions.every((s) => s.firstBytes.startsWith('PRI * HTTP/2.0')), 'the HTTP/2 preface followed the header');
});
