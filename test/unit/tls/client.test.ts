// connectMtls against a real openssl s_server: identity checks, verification failures, SNI/ALPN, timeouts.
import t from 'tap';
import type { Test } from 'tap';
import type tls from 'node:tls';
import { connectMtls } from '../../../src/tls/client.js';
import { parseClientHello } from '../../../src/tls/client-hello.js';
import { PeerIdentityMismatch, TlsHandshakeFailed, TlsHandshakeTimeout, TlsPeerCertificateInvalid } from '../../../src/tls/errors.js';
import { TestPki, type Leaf } from '../../support/pki.js';
import { credentialsFor } from './helpers/creds.js';
import { acceptOne } from './helpers/listener.js';
import { connectTcp, startSServer } from '../../support/openssl.js';

const SERVER_ID = 'api.ns3.serviceaccount.identity.linkerd.cluster.local';
const SERVER_NAME = 'api.ns3.serviceaccount.identity.linkerd.cluster.local';
const SPIFFE_ID = 'spiffe://cluster.local/ns/ns3/sa/api';
const TRANSPORT = 'transport.l5d.io/v1';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root();
const issuer = pki.intermediate(root);
const ourLeaf = pki.leaf(issuer, { dns: ['proxy.ns1.serviceaccount.identity.linkerd.cluster.local'], cn: 'proxy-client' });
const creds = credentialsFor(ourLeaf, root, 'proxy.ns1.serviceaccount.identity.linkerd.cluster.local');
const serverDirect = pki.leaf(root, { dns: [SERVER_ID], cn: 'api' });
const serverViaIntermediate = pki.leaf(issuer, { dns: [SERVER_ID], cn: 'api-int' });
const serverSpiffe = pki.leaf(root, { uris: [SPIFFE_ID], cn: 'api-spiffe' });
const serverOtherId = pki.leaf(root, { dns: ['impostor.ns9.serviceaccount.identity.linkerd.cluster.local', 'second.example'], uris: ['spiffe://x/y'] });
const serverExpired = pki.leaf(root, { dns: [SERVER_ID], notBeforeSec: -7200, notAfterSec: -3600 });
const otherRoot = pki.root('another-root');
const serverWrongCa = pki.leaf(otherRoot, { dns: [SERVER_ID] });

/** s_server requiring a client certificate verified against our root. */
function sServerArgs(leaf: Leaf, extra: readonly string[] = []): string[] {
  return ['-Verify', '1', '-CAfile', root.certPath, '-cert', leaf.certPath, '-key', leaf.keyPath, '-cert_chain', issuer.certPath,
    '-naccept', '1', ...extra];
}

async function dial(t: Test, port: number, opts: { serverName?: string; expectedServerId?: string; alpn?: string[]; timeoutMs?: number } = {}): Promise<tls.TLSSocket> {
  const sock = await connectTcp(t, port);
  const tlsSocket = await connectMtls(sock, creds, {
    serverName: opts.serverName ?? SERVER_NAME,
    expectedServerId: opts.expectedServerId ?? SERVER_ID,
    timeoutMs: opts.timeoutMs ?? 5000,
    ...(opts.alpn ? { alpn: opts.alpn } : {}),
  });
  tlsSocket.on('error', () => undefined);
  t.teardown(() => tlsSocket.destroy());
  return tlsSocket;
}

function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => new Error('unexpectedly succeeded'), (e: unknown) => e);
}

t.test('DNS identity: mTLS to openssl s_server, SNI = server name, our client certificate seen, data both ways', async (t) => {
  // The default certificate names someone else; only a matching SNI selects the right one.
  const { peer, port } = await startSServer(t, ['-tls1_3', ...sServerArgs(serverOtherId),
    '-servername', SERVER_NAME, '-cert2', serverDirect.certPath, '-key2', serverDirect.keyPath, '-servername_fatal']);
  const tlsSocket = await dial(t, port);
  t.equal(tlsSocket.getProtocol(), 'TLSv1.3');
  t.equal(tlsSocket.isSessionReused(), false);
  tlsSocket.write('hello-from-proxy\n');
  const out = await peer.waitFor(/hello-from-proxy/);
  t.match(out, new RegExp(`Hostname in TLS extension: "${SERVER_NAME.replace(/\./g, '\\.')}"`), 'SNI is the server name');
  t.match(out, /subject=CN = proxy-client/, 's_server received our client certificate');
  t.match(peer.stderr, /depth=0 CN = proxy-client\nverify return:1/, 'and verified it');
  const received = new Promise<string>((r) => tlsSocket.once('data', (d: Buffer) => r(d.toString())));
  peer.write('hello-from-server\n');
  t.equal(await received, 'hello-from-server\n');
});

t.test('a server chain through an intermediate verifies against the root', async (t) => {
  const { port } = await startSServer(t, ['-tls1_3', ...sServerArgs(serverViaIntermediate)]);
  const tlsSocket = await dial(t, port);
  t.equal(tlsSocket.authorized, true);
});

t.test('SPIFFE URI identity, host name ignored', async (t) => {
  const { port } = await startSServer(t, ['-tls1_3', ...sServerArgs(serverSpiffe)]);
  const tlsSocket = await dial(t, port, { serverName: 'api.ns3.svc.cluster.local', expectedServerId: SPIFFE_ID });
  t.equal(tlsSocket.getProtocol(), 'TLSv1.3', 'connected although the SNI names nothing in the certificate');
});

t.test('a server certificate from another CA is rejected with OpenSSL\'s reason', async (t) => {
  const { port } = await startSServer(t, ['-tls1_3', '-Verify', '1', '-CAfile', root.certPath,
    '-cert', serverWrongCa.certPath, '-key', serverWrongCa.keyPath, '-naccept', '1']);
  const err = await failure(dial(t, port));
  t.type(err, TlsPeerCertificateInvalid);
  t.match(err, { peer: 'server', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', code: 'tls peer certificate invalid', source: 'upstream' });
  t.match((err as Error).message, /server certificate rejected: unable to verify the first certificate/);
});

t.test('a server naming another identity: PeerIdentityMismatch names both', async (t) => {
  const { port } = await startSServer(t, ['-tls1_3', ...sServerArgs(serverOtherId)]);
  const err = await failure(dial(t, port));
  t.type(err, PeerIdentityMismatch);
  t.match(err, {
    expected: SERVER_ID,
    presented: ['impostor.ns9.serviceaccount.identity.linkerd.cluster.local', 'second.example', 'spiffe://x/y'],
    code: 'tls peer identity mismatch',
  });
  const message = (err as Error).message;
  t.match(message, SERVER_ID);
  t.match(message, 'impostor.ns9.serviceaccount.identity.linkerd.cluster.local');
});

t.test('an expired server certificate is rejected', async (t) => {
  const { port } = await startSServer(t, ['-tls1_3', ...sServerArgs(serverExpired)]);
  const err = await failure(dial(t, port));
  t.match(err, { reason: 'CERT_HAS_EXPIRED' });
  t.match((err as Error).message, /certificate has expired/);
});

t.test('a TLS 1.2-only server is refused', async (t) => {
  const { port } = await startSServer(t, ['-tls1_2', ...sServerArgs(serverDirect)]);
  const err = await failure(dial(t, port));
  t.type(err, TlsHandshakeFailed);
  t.match(err, { code: 'tls handshake failed', source: 'upstream' });
});

t.test('ALPN transport.l5d.io/v1 is offered on request and negotiated with a server that has it', async (t) => {
  const { port } = await startSServer(t, ['-tls1_3', '-alpn', TRANSPORT, ...sServerArgs(serverDirect)]);
  const tlsSocket = await dial(t, port, { alpn: [TRANSPORT] });
  t.equal(tlsSocket.alpnProtocol, TRANSPORT);
});

t.test('the ClientHello we send: SNI = server name, ALPN only when asked (seen by our own parser)', async (t) => {
  for (const alpn of [undefined, [TRANSPORT]]) {
    const { port, accepted } = await acceptOne(t);
    const sock = await connectTcp(t, port);
    const pending = failure(connectMtls(sock, creds, {
      serverName: SERVER_NAME, expectedServerId: SERVER_ID, timeoutMs: 5000, ...(alpn ? { alpn } : {}),
    }));
    const raw = await accepted;
    let hello = Buffer.alloc(0);
    for await (const chunk of raw) {
      hello = Buffer.concat([hello, chunk as Buffer]);
      if (parseClientHello(hello).kind !== 'incomplete') break;
    }
    t.same(parseClientHello(hello), { kind: 'client-hello', sni: SERVER_NAME, alpn: alpn ?? [] });
    raw.destroy();
    t.type(await pending, TlsHandshakeFailed, 'closing the connection fails the handshake');
  }
});

t.test('a server that never answers times the handshake out', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const sock = await connectTcp(t, port);
  const pending = failure(connectMtls(sock, creds, { serverName: SERVER_NAME, expectedServerId: SERVER_ID, timeoutMs: 200 }));
  (await accepted).resume();
  const err = await pending;
  t.type(err, TlsHandshakeTimeout);
  t.match(err, { code: 'tls handshake timeout', source: 'upstream' });
  t.equal(sock.destroyed, true, 'the TCP connection is destroyed');
});
