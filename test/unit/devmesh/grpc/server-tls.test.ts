// A TLS control-plane server presents the dev CA's certificate for its identity, picks up renewals for new
// handshakes, accepts clients without certificates, and parses listen addresses.
import t from 'tap';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { DevCa } from '../../../../src/devmesh/ca/dev-ca.js';
import { RotatingCertificate } from '../../../../src/devmesh/ca/rotating.js';
import { generateTrustAnchor } from '../../../../src/devmesh/ca/trust-anchor.js';
import { listenTls, parseListenAddr } from '../../../../src/devmesh/grpc/listener.js';
import { silentLogger } from '../../../../src/log/logger.js';
import { ManualClock } from '../../identity/helpers/manual-clock.js';

const NAME = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';

function handshake(port: number, ca: string, version: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<{ cert: X509Certificate; protocol: string | null; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: NAME, ALPNProtocols: ['h2'], minVersion: version, maxVersion: version, checkServerIdentity: () => undefined }, () => {
      resolve({ cert: new X509Certificate(s.getPeerX509Certificate()!.raw), protocol: s.getProtocol(), alpn: s.alpnProtocol });
      s.destroy();
    });
    s.once('error', reject);
  });
}

t.test('serves the CA-issued certificate, TLS 1.3, no client certificate needed, renewed certificates for new handshakes', async (t) => {
  const clock = new ManualClock();
  const anchor = (await generateTrustAnchor(clock.now())).anchor;
  const ca = await DevCa.create(anchor, clock.now());
  const cert = await RotatingCertificate.start(() => ca.serverCertificate(NAME, Date.now()), clock, silentLogger, NAME); // real dates: the client checks validity by the real clock
  t.teardown(() => cert.stop());
  const server = new grpc.Server();
  const listener = await listenTls(server, { host: '127.0.0.1', port: 0 }, cert, anchor.certPem, () => undefined);
  t.teardown(() => listener.close());
  t.ok(listener.tls);
  t.ok(listener.addr.port > 0);

  const first = await handshake(listener.addr.port, anchor.certPem);
  t.equal(first.protocol, 'TLSv1.3');
  t.equal(first.alpn, 'h2', 'h2 for clients that offer it');
  t.equal(first.cert.subjectAltName, `DNS:${NAME}`);
  clock.advance(13 * 3600_000);
  await new Promise((r) => setTimeout(r, 100));
  const second = await handshake(listener.addr.port, anchor.certPem);
  t.not(second.cert.serialNumber, first.cert.serialNumber, 'the renewed certificate');
  t.equal(second.cert.subjectAltName, `DNS:${NAME}`);
  await t.rejects(handshake(listener.addr.port, anchor.certPem, 'TLSv1.2'), 'TLS 1.2 is refused, also after the renewal');
});

t.test('gRPC over TLS without ALPN, as linkerd2-proxy dials its control plane', async (t) => {
  const anchor = (await generateTrustAnchor(Date.now())).anchor;
  const ca = await DevCa.create(anchor, Date.now());
  const cert = await RotatingCertificate.start(() => ca.serverCertificate(NAME, Date.now()), new ManualClock(), silentLogger, NAME);
  t.teardown(() => cert.stop());
  const listener = await listenTls(new grpc.Server(), { host: '127.0.0.1', port: 0 }, cert, anchor.certPem, () => undefined);
  t.teardown(() => listener.close());
  // The HTTP/2 preface and an empty SETTINGS frame over a TLS connection that offers no ALPN.
  const { alpn, reply } = await new Promise<{ alpn: string | false | null; reply: Buffer }>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: listener.addr.port, ca: anchor.certPem, servername: NAME, checkServerIdentity: () => undefined }, () => {
      s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      s.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    });
    s.once('data', (d: Buffer) => {
      resolve({ alpn: s.alpnProtocol, reply: d });
      s.destroy();
    });
    s.once('error', reject);
  });
  t.equal(alpn, false, 'no protocol was negotiated');
  t.equal(reply[3], 4, 'yet the server speaks HTTP/2: its first frame is SETTINGS');
});

t.test('listen addresses', async (t) => {
  t.same(parseListenAddr('127.0.0.1:8086', 'x'), { host: '127.0.0.1', port: 8086 });
  t.same(parseListenAddr('[::1]:0', 'x'), { host: '::1', port: 0 });
  t.same(parseListenAddr('0.0.0.0:8090', 'x'), { host: '0.0.0.0', port: 8090 });
  t.throws(() => parseListenAddr('8086', '--listen-destination'), /--listen-destination '8086' is not host:port/);
  t.throws(() => parseListenAddr('::1:80', 'x'));
  t.throws(() => parseListenAddr('host:70000', 'x'));
});
