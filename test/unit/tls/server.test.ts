// terminateTls behind detectTls against a real openssl s_client: client ids, rejections, ALPN, parameters.
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Credentials } from '../../../src/identity/types.js';
import { detectTls } from '../../../src/tls/detect.js';
import { TlsHandshakeFailed, TlsHandshakeTimeout, TlsPeerCertificateInvalid } from '../../../src/tls/errors.js';
import { terminateTls, type TlsAccepted } from '../../../src/tls/server.js';
import { TestPki } from '../../support/pki.js';
import { credentialsFor } from './helpers/creds.js';
import { acceptOne, pausedListener } from './helpers/listener.js';
import { connectTcp, runSClient, type Peer } from '../../support/openssl.js';

const SERVER_ID = 'web.ns1.serviceaccount.identity.linkerd.cluster.local';
const TRANSPORT = 'transport.l5d.io/v1';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const root = pki.root();
const issuer = pki.intermediate(root);
const ourLeaf = pki.leaf(issuer, { dns: [SERVER_ID], cn: 'web' });
const creds = credentialsFor(ourLeaf, root, SERVER_ID);
const clientDns = pki.leaf(issuer, { dns: ['client.ns2.serviceaccount.identity.linkerd.cluster.local'], cn: 'client' });
const clientSpiffe = pki.leaf(issuer, { uris: ['spiffe://cluster.local/ns/ns2/sa/client'], dns: ['also.example'] });
const otherRoot = pki.root('someone-else');
const clientWrongCa = pki.leaf(otherRoot, { dns: ['intruder.example'] });
const clientExpired = pki.leaf(issuer, { dns: ['old.example'], notBeforeSec: -7200, notAfterSec: -3600 });
const chainFile = issuer.certPath;

type Outcome = { readonly ok: TlsAccepted; readonly echoed?: string } | { readonly err: unknown };

/** Our inbound TLS stack on a loopback listener: detect, terminate when SNI is ours, echo once. */
async function meshServer(t: Test, c: Credentials, opts: { alpn?: readonly string[]; timeoutMs?: number } = {}): Promise<{ port: number; outcome: Promise<Outcome> }> {
  let report!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((r) => (report = r));
  const port = await pausedListener(t, (socket) => {
    void (async () => {
      try {
        const d = await detectTls(socket, { timeoutMs: 5000 });
        if (d.result.kind !== 'client-hello' || d.result.sni !== c.serverName) throw new Error(`unexpected detection ${JSON.stringify(d.result)}`);
        const accepted = await terminateTls(socket, c, { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.alpn ? { alpn: opts.alpn } : {}) });
        accepted.tlsSocket.on('error', () => undefined);
        accepted.tlsSocket.once('data', (chunk: Buffer) => {
          accepted.tlsSocket.end(`echo:${chunk.toString()}`);
          report({ ok: accepted, echoed: chunk.toString() });
        });
      } catch (err) {
        report({ err });
      }
    })();
  });
  return { port, outcome };
}

function sClientArgs(extra: readonly string[], client?: { certPath: string; keyPath: string }): string[] {
  return ['-servername', SERVER_ID, '-CAfile', root.certPath, '-verify_return_error', '-ign_eof', ...extra,
    ...(client ? ['-cert', client.certPath, '-key', client.keyPath, '-cert_chain', chainFile] : [])];
}

async function finished(peer: Peer): Promise<string> {
  await peer.exited;
  return peer.output;
}

t.test('openssl s_client with a DNS-identity client certificate: mTLS, client id, echo', async (t) => {
  const { port, outcome } = await meshServer(t, creds);
  const client = runSClient(t, port, sClientArgs(['-tls1_3'], clientDns), 'ping\n');
  const o = await outcome;
  if (!('ok' in o)) throw o.err;
  t.equal(o.ok.clientId, 'client.ns2.serviceaccount.identity.linkerd.cluster.local');
  t.equal(o.ok.negotiatedAlpn, undefined, 'the data-path server advertises no ALPN');
  t.equal(o.ok.tlsSocket.getProtocol(), 'TLSv1.3');
  t.equal(o.echoed, 'ping\n', 'client → server data');
  const out = await finished(client);
  t.match(out, /echo:ping/, 'server → client data');
  t.match(out, /Verify return code: 0 \(ok\)/, 's_client verified our chain (leaf + intermediate) against the root');
  t.match(out, /Protocol\s*:\s*TLSv1\.3/);
});

t.test('the client id is the first SAN, a DNS name or a SPIFFE URI', async (t) => {
  const { port, outcome } = await meshServer(t, creds);
  runSClient(t, port, sClientArgs(['-tls1_3'], clientSpiffe), 'ping\n');
  const o = await outcome;
  if (!('ok' in o)) throw o.err;
  // TestPki lists DNS SANs first, so build the URI-first case explicitly.
  t.equal(o.ok.clientId, 'also.example', 'the first SAN wins, whatever its kind');
  const uriOnly = pki.leaf(issuer, { uris: ['spiffe://cluster.local/ns/ns2/sa/client'] });
  const second = await meshServer(t, creds);
  runSClient(t, second.port, sClientArgs(['-tls1_3'], uriOnly), 'ping\n');
  const o2 = await second.outcome;
  if (!('ok' in o2)) throw o2.err;
  t.equal(o2.ok.clientId, 'spiffe://cluster.local/ns/ns2/sa/client');
});

t.test('no client certificate: accepted, without a client id', async (t) => {
  const { port, outcome } = await meshServer(t, creds);
  const client = runSClient(t, port, sClientArgs(['-tls1_3']), 'anon\n');
  const o = await outcome;
  if (!('ok' in o)) throw o.err;
  t.equal(o.ok.clientId, undefined);
  t.match(await finished(client), /echo:anon/);
});

t.test('a client certificate from another CA is rejected and the connection closed', async (t) => {
  const { port, outcome } = await meshServer(t, creds);
  const client = runSClient(t, port, ['-servername', SERVER_ID, '-CAfile', root.certPath, '-ign_eof', '-tls1_3',
    '-cert', clientWrongCa.certPath, '-key', clientWrongCa.keyPath], 'secret\n');
  const o = await outcome;
  t.ok('err' in o, 'terminateTls rejected');
  if (!('err' in o)) return;
  t.type(o.err, TlsPeerCertificateInvalid);
  t.match(o.err, { peer: 'client', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', code: 'tls peer certificate invalid' });
  t.match((o.err as Error).message, /unable to verify the first certificate/);
  t.notMatch(await finished(client), /echo:/, 'no data was exchanged');
});

t.test('an expired client certificate is rejected', async (t) => {
  const { port, outcome } = await meshServer(t, creds);
  runSClient(t, port, sClientArgs(['-tls1_3'], clientExpired), 'x\n');
  const o = await outcome;
  if (!('err' in o)) {
    t.fail('accepted an expired certificate');
    return;
  }
  t.match(o.err, { reason: 'CERT_HAS_EXPIRED' });
  t.match((o.err as Error).message, /certificate has expired/);
});

t.test('TLS 1.2 only clients cannot handshake', async (t) => {
  const { port, outcome } = await meshServer(t, creds);
  const client = runSClient(t, port, sClientArgs(['-tls1_2'], clientDns), 'x\n');
  const o = await outcome;
  if (!('err' in o)) {
    t.fail('accepted TLS 1.2');
    return;
  }
  t.type(o.err, TlsHandshakeFailed);
  t.match((o.err as Error).message, /unsupported protocol/);
  t.match(await finished(client), /alert protocol version/);
});

t.test('ALPN transport.l5d.io/v1 is negotiated when (and only when) advertised', async (t) => {
  const direct = await meshServer(t, creds, { alpn: [TRANSPORT] });
  const c1 = runSClient(t, direct.port, sClientArgs(['-tls1_3', '-alpn', TRANSPORT], clientDns), 'hdr\n');
  const o1 = await direct.outcome;
  if (!('ok' in o1)) throw o1.err;
  t.equal(o1.ok.negotiatedAlpn, TRANSPORT);
  t.match(await finished(c1), /ALPN protocol: transport\.l5d\.io\/v1/);

  const plain = await meshServer(t, creds);
  const c2 = runSClient(t, plain.port, sClientArgs(['-tls1_3', '-alpn', TRANSPORT], clientDns), 'hdr\n');
  const o2 = await plain.outcome;
  if (!('ok' in o2)) throw o2.err;
  t.equal(o2.ok.negotiatedAlpn, undefined);
  t.match(await finished(c2), /No ALPN negotiated/);

  const mismatch = await meshServer(t, creds, { alpn: [TRANSPORT] });
  runSClient(t, mismatch.port, sClientArgs(['-tls1_3', '-alpn', 'h2'], clientDns), 'hdr\n');
  const o3 = await mismatch.outcome;
  t.ok('err' in o3, 'a client offering only other protocols fails with no_application_protocol');
});

t.test('TLS 1.3 parameters: cipher suites and key-exchange groups of spec §6.1 only', async (t) => {
  for (const [args, ok] of [
    [['-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'], true],
    [['-ciphersuites', 'TLS_AES_128_CCM_SHA256'], false],
    [['-groups', 'P-384'], true],
    [['-groups', 'P-256'], true],
    [['-groups', 'X448'], false],
    [['-sigalgs', 'RSA-PSS+SHA256'], false],
  ] as const) {
    const s = await meshServer(t, creds);
    runSClient(t, s.port, sClientArgs(['-tls1_3', ...args], clientDns), 'p\n');
    const o = await s.outcome;
    t.equal('ok' in o, ok, `${args.join(' ')} ${ok ? 'works' : 'is refused'}`);
  }
});

t.test('a handshake that stalls is destroyed after the timeout', async (t) => {
  const hello = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/client-hello/openssl-sni.bin'));
  const meshCreds = { ...creds, serverName: 'web.example.com' };
  const { port, outcome } = await meshServer(t, meshCreds, { timeoutMs: 200 });
  const raw = await connectTcp(t, port);
  raw.write(hello); // a genuine ClientHello, and then nothing more
  raw.resume();
  const closed = new Promise<void>((r) => raw.on('close', () => r()));
  const o = await outcome;
  if (!('err' in o)) {
    t.fail('handshake completed');
    return;
  }
  t.type(o.err, TlsHandshakeTimeout);
  t.match(o.err, { code: 'tls handshake timeout', timeoutMs: 200 });
  await closed;
  t.pass('the peer saw the connection close');
});

t.test('client keys the spec accepts: ECDSA P-384 and RSA-2048 certificates verify', async (t) => {
  for (const keyType of ['ec-p384', 'rsa2048'] as const) {
    const leaf = pki.leaf(issuer, { dns: [`${keyType}.client.example`], keyType });
    const s = await meshServer(t, creds);
    runSClient(t, s.port, sClientArgs(['-tls1_3'], leaf), 'k\n');
    const o = await s.outcome;
    if (!('ok' in o)) throw o.err;
    t.equal(o.ok.clientId, `${keyType}.client.example`, keyType);
  }
});

t.test('credentials that cannot make a context fail the connection, not the process', async (t) => {
  const { port, accepted } = await acceptOne(t);
  const raw = await connectTcp(t, port);
  raw.resume();
  const closed = new Promise<void>((r) => raw.on('close', () => r()));
  const sock = await accepted;
  const broken = { ...creds, keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', generation: creds.generation + 1000 };
  const err = await terminateTls(sock, broken, { timeoutMs: 1000 }).then(() => undefined, (e: unknown) => e);
  t.type(err, TlsHandshakeFailed);
  t.match(err, { source: 'internal', message: /unusable credentials/ });
  await closed;
});

t.test('a peer that half-closes during the handshake fails it at once, not after the timeout', async (t) => {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const outcome = new Promise<unknown>((resolve) => {
    server.once('connection', (s: net.Socket) => {
      terminateTls(s, creds, { timeoutMs: 10_000 }).then(() => resolve(undefined), resolve);
    });
  });
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  t.teardown(() => client.destroy());
  await once(client, 'connect');
  const started = Date.now();
  client.end();
  t.type(await outcome, TlsHandshakeFailed, 'the handshake failed');
  t.ok(Date.now() - started < 2000, 'without waiting for the handshake timeout');
});
